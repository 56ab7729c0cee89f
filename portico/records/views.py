"""The patient's health record pages (SPEC §6): record home, download, send, access log, and
the read-only page a link recipient opens without an account."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from portico.charts.validation import format_phone
from portico.core.forms import apply_service_errors
from portico.portal import services as portal
from portico.portal.models import AccessState
from portico.records import access_log, fhir, selectors, services
from portico.records.forms import SendLinkForm


def _open_access(request, access_id):
    """The signed-in account's access to this chart: (access, accesses, refusal response).

    Another account's chart or an unknown id is a 404; a chart whose access is no longer
    active answers with the access error and reads nothing else.
    """
    accesses = portal.patient_access_list(request.user)
    access = next((a for a in accesses if str(a.public_id) == str(access_id)), None)
    if access is None:
        raise Http404
    if access.effective_state != AccessState.ACTIVE:
        # Revocation takes effect at once: the next request of an open session lands here.
        refusal = render(
            request,
            "portal/no_access.html",
            {
                "access": access,
                "accesses": accesses,
                "no_access_message": portal.NO_ACCESS_MESSAGE,
            },
            status=403,
        )
        return access, accesses, refusal
    return access, accesses, None


def _record_context(access, accesses, record) -> dict:
    return {
        "access": access,
        "accesses": accesses,
        "patient": access.patient,
        "practice": access.practice,
        "record": record,
        "mobile_phone_display": format_phone(access.patient.mobile_phone),
    }


@login_required
@never_cache
def record_home(request, access_id):
    """The patient's record: every shared section, newest first."""
    access, accesses, refusal = _open_access(request, access_id)
    if refusal:
        return refusal
    services.record_viewed(request.user, access=access, page="home")
    record = selectors.shared_record(access.patient)
    return render(request, "records/record.html", _record_context(access, accesses, record))


@login_required
@never_cache
def download_document(request, access_id):
    """A print-ready page of the shared record (the browser prints it or saves it as PDF)."""
    access, accesses, refusal = _open_access(request, access_id)
    if refusal:
        return refusal
    services.record_downloaded(request.user, access=access, fmt="html")
    record = selectors.shared_record(access.patient)
    context = _record_context(access, accesses, record)
    context["generated_at"] = timezone.now()
    return render(request, "records/document.html", context)


@login_required
@never_cache
def download_fhir(request, access_id):
    """The shared record as a FHIR R4 Bundle (JSON), as a file download."""
    access, _accesses, refusal = _open_access(request, access_id)
    if refusal:
        return refusal
    services.record_downloaded(request.user, access=access, fmt="fhir")
    record = selectors.shared_record(access.patient)
    return _fhir_response(record, "health-record.json")


def _fhir_response(record, filename: str) -> HttpResponse:
    response = HttpResponse(
        fhir.record_bundle_json(record), content_type="application/fhir+json; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
@never_cache
def send(request, access_id):
    """Send a link to the shared record to an email address; list the links sent."""
    access, accesses, refusal = _open_access(request, access_id)
    if refusal:
        return refusal
    form = SendLinkForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.shared_link_send(request.user, access=access, email=form.cleaned_data["email"])
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(
                request,
                "The link is on its way. It works for 7 days unless you stop it below.",
            )
            return redirect("records:send", access_id=access.public_id)
    services.record_viewed(request.user, access=access, page="sent links")
    return render(
        request,
        "records/send.html",
        {
            "access": access,
            "accesses": accesses,
            "practice": access.practice,
            "form": form,
            "links": services.links_of(access),
            "lifetime_days": services.LINK_LIFETIME.days,
        },
    )


@login_required
@require_POST
def revoke_link(request, access_id, link_id):
    access, _accesses, refusal = _open_access(request, access_id)
    if refusal:
        return refusal
    services.shared_link_revoke(request.user, access=access, link_id=link_id)
    messages.success(request, "The link no longer works.")
    return redirect("records:send", access_id=access.public_id)


@login_required
@never_cache
def access_log_view(request, access_id):
    """Who at the practice opened this chart, newest first (SPEC §6.3)."""
    access, accesses, refusal = _open_access(request, access_id)
    if refusal:
        return refusal
    services.record_viewed(request.user, access=access, page="access log")
    page, entries = access_log.access_log_page(access.patient, request.GET.get("page"))
    return render(
        request,
        "records/access_log.html",
        {
            "access": access,
            "accesses": accesses,
            "practice": access.practice,
            "page": page,
            "entries": entries,
        },
    )


def _link_gone(request):
    return render(
        request,
        "records/link_gone.html",
        {"message": services.LINK_GONE_MESSAGE},
        status=410,
    )


@never_cache
def shared(request, token):
    """The read-only shared record, for whoever holds a link the patient sent."""
    try:
        link = services.shared_link_open(token)
    except services.LinkUnusable:
        return _link_gone(request)
    record = selectors.shared_record(link.patient)
    return render(
        request,
        "records/shared.html",
        {
            "record": record,
            "patient": link.patient,
            "practice": link.practice,
            "link": link,
            "fhir_url": reverse("records:shared_fhir", args=[token]),
            "generated_at": timezone.now(),
        },
    )


@never_cache
def shared_fhir(request, token):
    try:
        link = services.shared_link_open(token, page="fhir")
    except services.LinkUnusable:
        return _link_gone(request)
    return _fhir_response(selectors.shared_record(link.patient), "health-record.json")
