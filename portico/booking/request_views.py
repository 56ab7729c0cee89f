"""Schedule > Appointment Requests (SPEC §8.5): the practice's requests (a tab beside the day
and week views), one request with its provider's day beside it, and the staff's decisions:
Approve (a new appointment on the chart chosen: "Change patient"), Deny (a reason), or
Reschedule: propose another time ("Propose Changes"; the appointment is Tentative until the
patient accepts). A tentative appointment can also be confirmed by staff, when the patient
agreed on the phone.

Every page is for staff of the current practice (`staff_required`, as the appointment book's
pages: any member of the practice manages the book). Requests and appointments named in a URL
are looked up in the current practice first, so another practice's are a 404. The views only
parse and render: each decision is a service call, whose errors are shown next to the fields
(400, or 409 when the time was taken meanwhile, with the provider's open times), nothing
changed. The list and the request are reads of health information and audited.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from portico.audit.services import audit_read
from portico.booking import request_selectors as selectors
from portico.booking import services
from portico.booking.models import AppointmentRequest, RequestKind, RequestStatus
from portico.booking.request_forms import (
    ALL,
    NEW_PATIENT,
    ApproveForm,
    DenyForm,
    ProposeForm,
    RequestFilterForm,
)
from portico.charts import services as chart_services
from portico.core.forms import apply_service_errors
from portico.practices.decorators import staff_required
from portico.scheduling import book_page, calendar, page_input
from portico.scheduling import selectors as scheduling_selectors
from portico.scheduling import services as scheduling
from portico.scheduling.book_page import DAY, Clock, Links
from portico.scheduling.models import AppointmentStatus

# --- The list ---------------------------------------------------------------------------------


def _filters(request, memberships) -> tuple[RequestFilterForm, dict]:
    """The filters asked for, with the defaults for what was not (or not validly) asked:
    the requests waiting for the practice, of every provider and type."""
    defaults = {"show": selectors.PENDING, "provider": ALL, "kind": ALL}
    data = {name: request.GET.get(name, default) for name, default in defaults.items()}
    form = RequestFilterForm(data, providers=memberships)
    form.is_valid()
    chosen = {name: form.cleaned_data.get(name) or default for name, default in defaults.items()}
    return form, chosen


@staff_required
def request_list(request):
    """The practice's appointment requests: those waiting for the practice, oldest first (or
    those answered lately), by provider and type. A fixed number of queries whatever the
    number of requests; showing who asked is an audited read."""
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET"])
    practice = request.practice
    memberships = list(scheduling_selectors.providers(practice))
    form, chosen = _filters(request, memberships)
    provider = page_input.chosen_provider(memberships, chosen["provider"])
    found = selectors.request_list(
        practice, show=chosen["show"], provider=provider, kind=chosen["kind"]
    )
    page = Paginator(found, selectors.PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    for item in page.object_list:
        item.asked_at = selectors.asked_time(item)
    audit_read(
        request.user,
        action="booking.request_list",
        practice=practice,
        details={
            **chosen,
            "page": page.number,
            "shown": len(page.object_list),
            "requests": [str(item.public_id) for item in page.object_list],
        },
    )
    return render(
        request,
        "booking/requests/list.html",
        {
            "form": form,
            "page": page,
            "answered": chosen["show"] == selectors.ANSWERED,
            "practice": practice,
            "tabs": _tabs(practice),
            "schedule_section": True,
        },
    )


def _tabs(practice) -> dict[str, str]:
    """The schedule's tabs: the day and week views of today, and the requests."""
    links, today = Links(), page_input.today(practice)
    return {
        "day": links.view(DAY, today),
        "week": links.view(book_page.WEEK, today),
        "requests": reverse("booking:requests"),
    }


# --- One request ------------------------------------------------------------------------------


def _request(request, request_id) -> AppointmentRequest:
    """The current practice's request (404 for anyone else's)."""
    found = selectors.request_for_staff(request.practice, request_id)
    if found is None:
        raise Http404
    return found


@dataclass
class OpenTime:
    value: str  # the local date and time with its offset: 2026-12-07T09:40:00-05:00
    text: str  # "9:40 AM"
    checked: bool = False


def _day_shown(request, found: AppointmentRequest) -> dt.date:
    """The provider's day beside the request: ?day=YYYY-MM-DD, else the day asked for (the
    appointment's day, for a cancellation), else today."""
    practice = request.practice
    day = page_input.parse_date(request.GET.get("day"))
    if day is not None:
        return day
    asked = selectors.asked_time(found)
    if asked is not None:
        return asked.astimezone(scheduling.zone_of(practice)).date()
    return page_input.today(practice)


def _charts(request, found: AppointmentRequest, chooses: bool):
    """The charts the request may be booked on: those with the requester's last name and
    date of birth, and those a "Change patient" search found; showing them is an audited
    read of charts."""
    if not chooses:
        return [], [], ""
    practice = request.practice
    query = (request.GET.get("q") or "").strip()[:100]
    matches = selectors.matching_charts(practice, found)
    searched = selectors.searched_charts(practice, query)
    seen = {chart.pk for chart in matches}
    shown = matches + [chart for chart in searched if chart.pk not in seen]
    if shown or query:
        chart_services.charts_listed(
            request.user,
            practice=practice,
            charts=shown,
            what="appointment request",
            search=query,
        )
    return matches, shown, query


def _default_chart(matches) -> str:
    """The chart chosen until staff change it: the one chart that matches, else a new chart
    when none does; with several, staff choose."""
    if len(matches) == 1:
        return str(matches[0].public_id)
    return NEW_PATIENT if not matches else ""


def _new_patient_initial(found: AppointmentRequest, chosen: str) -> dict:
    return {
        "patient": chosen,
        "legal_first_name": found.first_name,
        "legal_last_name": found.last_name,
        "date_of_birth": found.date_of_birth,
        "email": found.email,
        "mobile_phone": found.phone,
    }


def _detail_page(
    request,
    found: AppointmentRequest,
    *,
    status: int = 200,
    approve_form: ApproveForm | None = None,
    deny_form: DenyForm | None = None,
    propose_form: ProposeForm | None = None,
    opened: str = "",
):
    """The request with everything it carries (an audited read), the provider's day beside
    it, and, while it waits for the practice, the decisions."""
    practice = request.practice
    services.request_opened(request.user, request=found)
    pending = found.status == RequestStatus.PENDING
    chooses = pending and found.kind == RequestKind.NEW and found.patient_id is None
    matches, charts, query = _charts(request, found, chooses)
    day = _day_shown(request, found)
    provider_calendar = selectors.provider_calendar(practice, found, day)
    zone = scheduling.zone_of(practice)
    clock, links = Clock(zone), Links()
    items, open_times = [], []
    if provider_calendar is not None:
        user = provider_calendar.membership.user
        labels = {value: str(label) for value, label in AppointmentStatus.choices}
        items = book_page.day_items(provider_calendar.day, user.public_id, clock, links, labels)
        chosen_time = propose_form.data.get("start_at", "") if propose_form is not None else ""
        open_times = [
            OpenTime(
                clock.local(t.start).isoformat(),
                clock(t.start),
                clock.local(t.start).isoformat() == chosen_time,
            )
            for t in provider_calendar.open_times
        ]
        # The provider's day shows their other patients' appointments, as the schedule does.
        audit_read(
            request.user,
            action="schedule.view",
            practice=practice,
            details={
                "date": day.isoformat(),
                "view": DAY,
                "provider": str(user.public_id),
                "page": "appointment request",
            },
        )
    chosen_chart = _default_chart(matches)
    approve_form = approve_form or ApproveForm(initial=_new_patient_initial(found, chosen_chart))
    propose_form = propose_form or ProposeForm(
        initial={**_new_patient_initial(found, chosen_chart), "date": day}
    )
    deny_form = deny_form or DenyForm()
    asked_open = provider_calendar.asked_is_open if provider_calendar is not None else None
    if not opened and pending:
        # With ?day= staff are looking for another time; a time no longer open needs one too.
        opened = "propose" if request.GET.get("day") or asked_open is False else "approve"
    # An action refused on a request that is no longer waiting (its forms are not shown): the
    # reason, at the top.
    refused = (
        []
        if pending
        else [
            text
            for form in (approve_form, deny_form, propose_form)
            if form.is_bound
            for errors in form.errors.values()
            for text in errors
        ]
    )
    return render(
        request,
        "booking/requests/detail.html",
        {
            "req": found,
            "practice": practice,
            "pending": pending,
            "can_propose": pending and found.kind != RequestKind.CANCEL,
            "chooses": chooses,
            "charts": charts,
            "matches": matches,
            "query": query,
            "approve_form": approve_form,
            "deny_form": deny_form,
            "propose_form": propose_form,
            "approve_chart": _chart_value(approve_form),
            "propose_chart": _chart_value(propose_form),
            "opened": opened,
            "refused": refused,
            "asked_at": selectors.asked_time(found),
            "calendar": provider_calendar,
            "day": day,
            "day_label": formats.date_format(day, "l, F j, Y"),
            "previous_day": (day - dt.timedelta(days=1)).isoformat(),
            "next_day": (day + dt.timedelta(days=1)).isoformat(),
            "items": items,
            "open_times": open_times,
            "asked_open": asked_open,
            "schedule_url": links.view(DAY, day),
            "schedule_section": True,
        },
        status=status,
    )


def _chart_value(form) -> str:
    """The chart choice a form shows checked: what was sent, else the default."""
    if form.is_bound:
        return form.data.get("patient", "")
    return form.initial.get("patient", "")


@staff_required
def request_detail(request, request_id):
    found = _request(request, request_id)
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET"])
    return _detail_page(request, found)


def _back_to(found: AppointmentRequest):
    return redirect("booking:request", request_id=found.public_id)


def _chart_choice(request, found: AppointmentRequest, form) -> tuple:
    """(patient, new_patient) for the service from the form's chart choice; an error on the
    form when nothing (or another practice's chart) was chosen. Only a new-appointment
    request without a chart chooses one."""
    if found.kind != RequestKind.NEW or found.patient_id is not None:
        return None, None
    choice = form.cleaned_data.get("patient") or ""
    if choice == NEW_PATIENT:
        # (None, None) when the details cannot be read: the form has the error.
        return None, form.new_patient()
    patient = selectors.chart_of(request.practice, choice) if choice else None
    if patient is None:
        form.add_error("patient", _("Choose the patient's chart, or Add a new patient."))
    return patient, None


@staff_required
@require_POST
def request_approve(request, request_id):
    """Approve: book the time asked (on the chart chosen), move the appointment to it (a
    reschedule) or cancel the appointment (a cancellation)."""
    found = _request(request, request_id)
    form = ApproveForm(request.POST)
    patient = new_patient = None
    if form.is_valid():
        patient, new_patient = _chart_choice(request, found, form)
    if form.errors:
        return _detail_page(request, found, status=400, approve_form=form, opened="approve")
    try:
        services.request_approve(
            request.user, request=found, patient=patient, new_patient=new_patient
        )
    except ValidationError as exc:
        # Approving a time taken meanwhile is refused with the book's message (409), and the
        # page shows the provider's open times again.
        taken = scheduling.is_taken(exc)
        apply_service_errors(form, exc)
        return _detail_page(
            request, found, status=409 if taken else 400, approve_form=form, opened="approve"
        )
    messages.success(
        request,
        {
            RequestKind.NEW: _("The request is approved: the appointment is booked."),
            RequestKind.RESCHEDULE: _("The request is approved: the appointment is moved."),
            RequestKind.CANCEL: _("The request is approved: the appointment is cancelled."),
        }[found.kind],
    )
    return _back_to(found)


@staff_required
@require_POST
def request_deny(request, request_id):
    """Deny, with a reason (for the practice) and an optional message (in the email)."""
    found = _request(request, request_id)
    form = DenyForm(request.POST)
    if form.is_valid():
        try:
            services.request_deny(
                request.user,
                request=found,
                reason=form.cleaned_data["reason"],
                message=form.cleaned_data["message"],
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
    if form.errors:
        return _detail_page(request, found, status=400, deny_form=form, opened="deny")
    messages.success(request, _("The request is denied. The patient gets an email."))
    return _back_to(found)


def _proposed_time(request, form: ProposeForm) -> dt.datetime | None:
    """The time chosen: one of the open times (its button's value), else the date and time
    typed, in the practice's time zone."""
    data = form.cleaned_data
    if data.get("start_at"):
        start_at = page_input.parse_instant(data["start_at"])
        if start_at is None:
            form.add_error("start_at", _("Choose one of the open times."))
        return start_at
    if data.get("date") and data.get("time"):
        return calendar.local_datetime(
            data["date"], data["time"], scheduling.zone_of(request.practice)
        )
    form.add_error("start_at", _("Choose one of the open times, or enter a date and a time."))
    return None


@staff_required
@require_POST
def request_propose(request, request_id):
    """Reschedule: propose another time ("Propose Changes"); a Tentative appointment holds it
    until the patient accepts in the portal (or staff confirm it)."""
    found = _request(request, request_id)
    form = ProposeForm(request.POST)
    start_at = patient = new_patient = None
    if form.is_valid():
        start_at = _proposed_time(request, form)
        patient, new_patient = _chart_choice(request, found, form)
    if form.errors:
        return _detail_page(request, found, status=400, propose_form=form, opened="propose")
    try:
        services.request_propose(
            request.user,
            request=found,
            start_at=start_at,
            reason=form.cleaned_data["reason"],
            message=form.cleaned_data["message"],
            patient=patient,
            new_patient=new_patient,
        )
    except ValidationError as exc:
        apply_service_errors(form, exc)
        return _detail_page(
            request,
            found,
            status=409 if scheduling.is_taken(exc) else 400,
            propose_form=form,
            opened="propose",
        )
    messages.success(
        request,
        _(
            "Another time is proposed. The appointment is Tentative until the patient "
            "accepts it; the patient gets an email."
        ),
    )
    return _back_to(found)


# --- A tentative appointment ------------------------------------------------------------------


@staff_required
@require_POST
def appointment_confirm(request, appointment_id):
    """Confirm a tentative appointment (the patient agreed, on the phone): it is Confirmed
    and the patient gets the "booked" email; a request it answered is approved."""
    appointment = scheduling_selectors.appointment_of(request.practice, appointment_id)
    if appointment is None:
        raise Http404
    try:
        services.proposal_confirm(request.user, appointment=appointment)
    except ValidationError as exc:
        return render(
            request,
            "booking/requests/confirm_refused.html",
            {"appointment": appointment, "errors": exc.messages, "schedule_section": True},
            status=400,
        )
    messages.success(request, _("The appointment is confirmed. The patient gets an email."))
    return redirect("scheduling:appointment", appointment_id=appointment.public_id)
