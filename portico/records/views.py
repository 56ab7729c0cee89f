"""The patient's health record pages (SPEC §6): record home, download, send, access log, and
the read-only page a link recipient opens without an account."""

from __future__ import annotations

import functools

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from portico.audit import context as audit_context
from portico.charts import record_cache
from portico.charts.validation import format_phone
from portico.core.forms import apply_service_errors
from portico.portal.patient_views import record_access
from portico.records import access_log, fhir, selectors, services
from portico.records.forms import SendLinkForm


def patient_record_view(view):
    """A page of the signed-in patient's record, reached by the chart's portal access id.

    The view is called as view(request, access, accesses, ...); `access` is the account's own
    access to the chart, or the representative it is of the chart's patient (SPEC §9), whose
    every audit event then records the relationship. Another account's chart or an unknown id
    is a 404; a chart whose access is no longer active (revoked, ended, or a representative's
    that ended with its date or the patient's coming of age) answers with the access error
    (403) and reads nothing else: it takes effect on the next request.
    """

    @login_required
    @never_cache
    @functools.wraps(view)
    def wrapper(request, access_id, **kwargs):
        access, accesses, refusal = record_access(request, access_id)
        if refusal is not None:
            return refusal
        if access.is_representative:
            with audit_context.acting_for(access.patient_id, access.relationship):
                return view(request, access, accesses, **kwargs)
        return view(request, access, accesses, **kwargs)

    return wrapper


def sections_rendering(record, practice, *, access=None):
    """The shared sections of the record (records/sections.html), cached per chart, record
    version and language; the record's lists are read only when the rendering is not current.

    The kind of rendering in the cache key holds the record's variant (`record.variant`: the
    patient's, with what is confidential from representatives, or a representative's, without
    it), so a rendering made for the patient is never served to a representative. With the
    portal `access` (the record page), upcoming appointments link to their calendar files under
    that access's id; that rendering is cached per access, apart from the one without links
    (the printable record, and the page a link's recipient opens)."""
    kind = f"phr-sections-{record.variant}"
    if access is not None:
        kind += f"-portal-{access.public_id}"
    return record_cache.chart_rendering(
        kind,
        record.patient,
        practice.time_zone,
        "records/sections.html",
        {
            "record": record,
            "practice": practice,
            "calendar_access": access.public_id if access is not None else None,
        },
        true_until=record.true_until,
    )


def _record_context(access, accesses, record, *, calendar_links: bool = False) -> dict:
    return {
        "access": access,
        "accesses": accesses,
        "patient": access.patient,
        "practice": access.practice,
        "record": record,
        "record_sections": sections_rendering(
            record, access.practice, access=access if calendar_links else None
        ),
        "mobile_phone_display": format_phone(access.patient.mobile_phone),
    }


@patient_record_view
def record_home(request, access, accesses):
    """The patient's record: every shared section, newest first."""
    services.record_viewed(request.user, access=access, page="home")
    record = selectors.record_of(access)
    return render(
        request,
        "records/record.html",
        _record_context(access, accesses, record, calendar_links=True),
    )


@patient_record_view
def download_document(request, access, accesses):
    """A print-ready page of the shared record (the browser prints it or saves it as PDF)."""
    services.record_downloaded(request.user, access=access, fmt="html")
    record = selectors.record_of(access)
    context = _record_context(access, accesses, record)
    context["generated_at"] = timezone.now()
    return render(request, "records/document.html", context)


@patient_record_view
def download_fhir(request, access, _accesses):
    """The shared record as a FHIR R4 Bundle (JSON), as a file download."""
    services.record_downloaded(request.user, access=access, fmt="fhir")
    record = selectors.record_of(access)
    return _fhir_response(record, "health-record.json")


def _fhir_response(record, filename: str) -> HttpResponse:
    response = HttpResponse(
        fhir.record_bundle_json(record), content_type="application/fhir+json; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@patient_record_view
def send(request, access, accesses):
    """Send a link to the shared record to an email address; list the links sent."""
    form = SendLinkForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.shared_link_send(request.user, access=access, email=form.cleaned_data["email"])
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("The link is on its way. It works for 7 days unless you stop it below."),
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


@require_POST
@patient_record_view
def revoke_link(request, access, _accesses, link_id):
    services.shared_link_revoke(request.user, access=access, link_id=link_id)
    messages.success(request, _("The link no longer works."))
    return redirect("records:send", access_id=access.public_id)


@patient_record_view
def access_log_view(request, access, accesses):
    """Who opened this chart, newest first (SPEC §6.3): the practice's staff and the patient's
    representatives, and for a representative the patient's own reads as their scope allows
    (records.access_log)."""
    services.record_viewed(request.user, access=access, page="access log")
    page, entries = access_log.access_log_page(access, request.GET.get("page"))
    return render(
        request,
        "records/access_log.html",
        {
            "access": access,
            "accesses": accesses,
            "practice": access.practice,
            "patient": access.patient,
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
    record = services.link_record(link)
    return render(
        request,
        "records/shared.html",
        {
            "record": record,
            "record_sections": sections_rendering(record, link.practice),
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
    return _fhir_response(services.link_record(link), "health-record.json")
