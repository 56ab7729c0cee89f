from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render

from portico.charts import selectors, services
from portico.charts.forms import DemographicsForm, PatientSearchForm
from portico.charts.validation import format_phone
from portico.core.forms import apply_service_errors
from portico.portal.forms import PortalContactForm
from portico.portal.selectors import portal_window
from portico.practices.decorators import staff_required


def scoped_patient(request, patient_id):
    """A chart of the current practice, or 404 (never 403: existence is not revealed)."""
    return get_object_or_404(selectors.charts_with_portal(request.practice), public_id=patient_id)


@staff_required
def patient_list(request):
    form = PatientSearchForm(request.GET or None)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    patients = selectors.patient_search(practice=request.practice, query=query)
    page = Paginator(patients, 50).get_page(request.GET.get("page"))
    return render(request, "charts/patient_list.html", {"form": form, "page": page, "query": query})


@staff_required
def patient_new(request):
    form = DemographicsForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            patient = services.patient_create(
                request.user, practice=request.practice, **form.cleaned_data
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, "The chart was created.")
            return redirect("charts:chart", patient_id=patient.public_id)
    return render(request, "charts/patient_form.html", {"form": form, "patient": None})


@staff_required
def patient_edit(request, patient_id):
    patient = scoped_patient(request, patient_id)
    form = (
        DemographicsForm(request.POST or None, instance=patient)
        if request.method == "POST"
        else DemographicsForm(instance=patient)
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.patient_update(request.user, patient=patient, **form.cleaned_data)
        except ValidationError as exc:
            patient.refresh_from_db()
            apply_service_errors(form, exc)
        else:
            messages.success(request, "Demographics saved.")
            return redirect("charts:chart", patient_id=patient.public_id)
    else:
        services.chart_viewed(request.user, patient=patient, what="demographics form")
    return render(request, "charts/patient_form.html", {"form": form, "patient": patient})


def render_chart(
    request, patient, *, portal_open=False, contact_form=None, confirm=None, status=200
):
    """The chart page, optionally with the "Patient portal access" window open."""
    window = portal_window(patient, request.membership)
    if contact_form is None:
        contact_form = PortalContactForm(
            initial={
                "email": (window.invitation.email if window.invitation else patient.email),
                "phone": format_phone(
                    window.invitation.phone if window.invitation else patient.mobile_phone
                ),
            }
        )
    services.chart_viewed(request.user, patient=patient)
    return render(
        request,
        "charts/chart.html",
        {
            "patient": patient,
            "portal": window,
            "portal_open": portal_open,
            "contact_form": contact_form,
            "confirm": confirm,
            "mobile_phone_display": format_phone(patient.mobile_phone),
        },
        status=status,
    )


@staff_required
def chart(request, patient_id):
    patient = scoped_patient(request, patient_id)
    return render_chart(request, patient, portal_open=request.GET.get("portal") == "open")
