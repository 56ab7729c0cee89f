"""Appointment requests' pieces of the appointment book's pages (scheduling's appointment page
loads this library, so scheduling never imports booking)."""

from django import template
from django.db.models import Q

from portico.booking.models import AppointmentRequest
from portico.scheduling.models import AppointmentStatus

register = template.Library()

# Requests an appointment page lists (an appointment has one or two; a few at most).
SHOWN = 5


@register.inclusion_tag("booking/requests/_appointment_requests.html", takes_context=True)
def appointment_requests(context, appointment):
    """The "Confirm appointment" button of a tentative appointment (the patient agreed on the
    phone), and links to the request the appointment answers and those about it (one query)."""
    requests = list(
        AppointmentRequest.objects.filter(practice_id=appointment.practice_id)
        .filter(Q(appointment=appointment) | Q(original=appointment))
        .order_by("-created_at", "-id")[:SHOWN]
    )
    return {
        "appointment": appointment,
        "tentative": appointment.status == AppointmentStatus.PROPOSED,
        "requests": requests,
        # The form's {% csrf_token %} reads the page's token from here.
        "csrf_token": context.get("csrf_token"),
    }
