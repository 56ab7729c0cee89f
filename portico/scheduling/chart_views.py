"""A chart's Appointments tab: the chart's appointments, upcoming first (soonest first), then
past ones (newest first), each linking to its page in the appointment book, and a link to
book another. A chart page like the others: any member of the practice, audited as a chart
read, a fixed number of queries."""

from __future__ import annotations

from django.http import HttpResponseNotAllowed
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from portico.charts import selectors as chart_selectors
from portico.charts import services as chart_services
from portico.practices.decorators import staff_required
from portico.scheduling import selectors
from portico.scheduling.book_page import STATUS_MARKS
from portico.scheduling.models import UPCOMING_STATUSES


@staff_required
def appointments(request, patient_id):
    patient = chart_selectors.chart_of(request.practice, patient_id)
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET"])
    now = timezone.now()
    upcoming, past = [], []
    for appointment in selectors.patient_appointments(patient):
        appointment.mark = STATUS_MARKS.get(appointment.status, "")
        if appointment.end_at > now and appointment.status in UPCOMING_STATUSES:
            upcoming.append(appointment)
        else:
            past.append(appointment)
    upcoming.reverse()  # the list is newest first: the soonest upcoming comes first
    chart_services.chart_viewed(request.user, patient=patient, what="appointments")
    return render(
        request,
        "scheduling/chart_appointments.html",
        {
            "patient": patient,
            "practice": request.practice,
            "upcoming": upcoming,
            "past": past,
            "book_url": reverse("scheduling:book") + f"?patient={patient.public_id}",
        },
    )
