"""The practice's appointment book pages (SPEC §8.4): the schedule (day and week views), the
booking page, and one appointment with its actions (move, cancel, mark). The schedule
settings are in settings_views.

Every page is for staff of the current practice (`staff_required`: anyone else gets 403).
Objects named in a URL are looked up in the current practice first, so another practice's
appointment, visit type, location, blocked time or provider is a 404. The views only parse and
render: each change is a service call, whose errors are shown next to the fields (400, or 409
when the time was taken meanwhile, with the open times again), nothing changed. Pages that
show patients write their read's audit event.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from portico.audit.services import audit_read
from portico.charts import selectors as chart_selectors
from portico.charts import services as chart_services
from portico.practices.decorators import staff_required
from portico.scheduling import book_page, calendar, page_input, selectors, services
from portico.scheduling.book_page import DAY, WEEK, Clock, Links
from portico.scheduling.calendar import Interval
from portico.scheduling.forms import (
    BookFindForm,
    BookForm,
    CancelForm,
    MoveForm,
)
from portico.scheduling.models import (
    UPCOMING_STATUSES,
    AppointmentStatus,
)

# Days of open times the booking and move forms offer, from the day chosen.
OPEN_DAYS = 14
# Charts a patient search on the booking page lists.
SEARCH_ROWS = 20


@dataclass
class OpenTime:
    value: str  # the local date and time with its offset: 2026-12-07T09:40:00-05:00
    text: str  # "9:40 AM"
    checked: bool = False


@dataclass
class OpenDay:
    """The open times of one day, as the booking and move forms list them."""

    label: str
    iso: str
    times: list[OpenTime]


def _open_days(intervals: list[Interval], clock: Clock, chosen: str = "") -> list[OpenDay]:
    """Open times grouped by local day; `chosen` (an open time's value, or a local
    YYYY-MM-DDTHH:MM from an open stretch's link) is the one checked."""
    days: dict[dt.date, OpenDay] = {}
    for interval in intervals:
        local = clock.local(interval.start)
        day = days.get(local.date())
        if day is None:
            day = days[local.date()] = OpenDay(
                formats.date_format(local.date(), "l, F j, Y"), local.date().isoformat(), []
            )
        value = local.isoformat()
        checked = bool(chosen) and (chosen == value or value.startswith(chosen + ":"))
        day.times.append(OpenTime(value, clock(interval.start), checked))
    return list(days.values())


# --- The book: day and week views -----------------------------------------------------------


@staff_required
def schedule(request):
    """The appointment book. ?view=day|week (day), ?date=YYYY-MM-DD (today in the practice's
    zone), ?provider=<user public id> (everyone). The day view puts the providers side by side;
    the week of one provider shows its seven days; the week of everyone is a table of counts.
    A fixed number of queries whatever the number of providers and appointments."""
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET"])
    practice = request.practice
    zone = services.zone_of(practice)
    today = page_input.today(practice)
    view = request.GET.get("view")
    view = view if view in (DAY, WEEK) else DAY
    day = page_input.parse_date(request.GET.get("date")) or today
    memberships = list(selectors.providers(practice))
    chosen = None
    if request.GET.get("provider"):
        chosen = page_input.by_public_id(
            memberships, request.GET["provider"], key=lambda m: m.user.public_id
        )
        if chosen is None:
            raise Http404
    shown = [chosen] if chosen is not None else memberships
    first = day - dt.timedelta(days=day.weekday()) if view == WEEK else day
    days = 7 if view == WEEK else 1
    # The week of every provider counts appointments: their times and statuses are enough.
    details = not (view == WEEK and chosen is None)
    book = selectors.schedule(practice, shown, first, days, details=details) if shown else []
    audit_read(
        request.user,
        action="schedule.view",
        practice=practice,
        details={
            "date": day.isoformat(),
            "view": view,
            "provider": str(chosen.user.public_id) if chosen is not None else "all",
        },
    )
    clock, links = Clock(zone), Links()
    provider_id = chosen.user.public_id if chosen is not None else None
    step = dt.timedelta(days=days)
    context = {
        "links": links,
        "view": view,
        "day_iso": day.isoformat(),
        "is_today": day == today,
        "previous_url": links.view(view, day - step, provider_id),
        "next_url": links.view(view, day + step, provider_id),
        "previous_label": _("Previous week") if view == WEEK else _("Previous day"),
        "next_label": _("Next week") if view == WEEK else _("Next day"),
        "today_url": links.view(view, today, provider_id),
        "day_url": links.view(DAY, day, provider_id),
        "week_url": links.view(WEEK, day, provider_id),
        "provider_choices": [
            {"id": str(m.user.public_id), "name": m.user.display_name} for m in memberships
        ],
        "chosen_provider": str(provider_id) if provider_id else "",
        "rows": [],
        "not_working": _("Not working"),
        "columns": [],
    }
    week_text = _("Week of %(date)s") % {"date": formats.date_format(first, "DATE_FORMAT")}
    if view == DAY:
        context["heading"] = formats.date_format(day, "l, F j, Y")
        context["columns"] = book_page.day_columns(book, clock, links)
    elif chosen is None:
        context["heading"] = week_text
        context["rows"] = book_page.week_rows(book, clock, links)
        context["days"] = [
            {
                "label": formats.date_format(first + dt.timedelta(days=i), "D, M j"),
                "url": links.view(DAY, first + dt.timedelta(days=i)),
            }
            for i in range(7)
        ]
    else:
        context["heading"] = f"{chosen.user.display_name} · {week_text}"
        context["columns"] = book_page.week_columns(book[0], clock, links)
    if view == WEEK:
        for column in context["columns"]:
            column.is_today = column.day == today
    body = render_to_string("scheduling/schedule_body.html", context, using="jinja2")
    return render(
        request,
        "scheduling/schedule.html",
        {"body": mark_safe(body), "schedule_section": True},  # noqa: S308 (our own template)
    )


# --- Booking ------------------------------------------------------------------------------


def _chart_or_404(practice, value):
    public_id = page_input.parse_uuid(value)
    if public_id is None:
        raise Http404
    return chart_selectors.chart_of(practice, public_id)


def _default_provider(request, memberships):
    """The signed-in provider, or the practice's only provider."""
    mine = next((m for m in memberships if m.user_id == request.user.pk), None)
    if mine is not None:
        return mine
    return memberships[0] if len(memberships) == 1 else None


def _book_page(
    request,
    *,
    find: BookFindForm,
    memberships,
    visit_types,
    patient=None,
    query: str = "",
    form: BookForm | None = None,
    chosen_time: str = "",
    status: int = 200,
):
    """The booking page: the search form, then (once a provider and a visit type are chosen)
    the booking form with the patients to choose from and the open times of the next 14 days.
    Showing patients (a search's results, or the chart chosen) is a read of charts."""
    practice = request.practice
    find.is_valid()
    data = find.cleaned_data  # what is valid of it (a field with an error is left out)
    provider = page_input.chosen_provider(memberships, data.get("provider"))
    visit_type = page_input.by_public_id(visit_types, data.get("visit_type"))
    first_day = data.get("date") or page_input.today(practice)
    patients = [patient] if patient is not None else []
    if patient is None and query:
        patients = list(
            chart_selectors.patient_search(practice=practice, query=query)[:SEARCH_ROWS]
        )
    if patient is not None or query:
        chart_services.charts_listed(
            request.user,
            practice=practice,
            charts=patients,
            what="book an appointment",
            search="" if patient is not None else query,
        )
    clock = Clock(services.zone_of(practice))
    open_days: list[OpenDay] = []
    if provider is not None and visit_type is not None:
        open_days = _open_days(
            selectors.open_times(
                practice, provider, visit_type, first_day=first_day, days=OPEN_DAYS
            ),
            clock,
            chosen_time,
        )
    if form is None:
        form = BookForm(
            initial={
                "provider": data.get("provider") or "",
                "visit_type": data.get("visit_type") or "",
                "date": first_day,
            }
        )
    return render(
        request,
        "scheduling/book.html",
        {
            "find": find,
            "form": form,
            "patient": patient,
            "patients": patients,
            "query": query,
            "provider": provider,
            "visit_type": visit_type,
            "first_day": first_day,
            "open_days": open_days,
            "chosen_time": chosen_time,
            "chosen_patient": str(patient.public_id) if patient is not None else "",
            "other_patient_url": _book_url(data),
            "open_days_count": OPEN_DAYS,
            "schedule_section": True,
        },
        status=status,
    )


def _book_url(data) -> str:
    """The booking page with the provider, visit type and date chosen, and no patient."""
    query = {
        "provider": data.get("provider") or "",
        "visit_type": data.get("visit_type") or "",
        "date": data["date"].isoformat() if data.get("date") else "",
    }
    return f"{reverse('scheduling:book')}?{urlencode(query)}"


@staff_required
def book(request):
    """Book an appointment. GET ?patient=<chart public id>&provider=<user public id>&
    visit_type=<public id>&date=YYYY-MM-DD&time=HH:MM&q=<search> fills the page in; POST books
    through services.appointment_book and opens the appointment."""
    practice = request.practice
    memberships = list(selectors.providers(practice))
    visit_types = list(selectors.visit_types(practice))
    if request.method == "POST":
        return _book_post(request, memberships, visit_types)
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "POST"])
    params = request.GET
    patient = _chart_or_404(practice, params["patient"]) if params.get("patient") else None
    default = _default_provider(request, memberships)
    data = {
        "q": params.get("q", ""),
        "provider": params.get(
            "provider", str(default.user.public_id) if default is not None else ""
        ),
        "visit_type": params.get(
            "visit_type", str(visit_types[0].public_id) if visit_types else ""
        ),
        "date": params.get("date", ""),
    }
    find = BookFindForm(data, providers=memberships, visit_types=visit_types)
    find.is_valid()
    query = (find.cleaned_data.get("q") or "").strip()
    day = find.cleaned_data.get("date")
    # An open stretch's link (date and time): the open time starting then, when there is one.
    chosen_time = f"{day.isoformat()}T{params['time'][:5]}" if day and params.get("time") else ""
    return _book_page(
        request,
        find=find,
        memberships=memberships,
        visit_types=visit_types,
        patient=patient,
        query=query,
        chosen_time=chosen_time,
    )


def _book_post(request, memberships, visit_types):
    practice = request.practice
    form = BookForm(request.POST)
    form.is_valid()
    data = form.cleaned_data
    find = BookFindForm(
        {
            "q": "",
            "provider": request.POST.get("provider", ""),
            "visit_type": request.POST.get("visit_type", ""),
            "date": request.POST.get("date", ""),
        },
        providers=memberships,
        visit_types=visit_types,
    )
    patient = None
    if data.get("patient"):
        patient = _chart_or_404(practice, data["patient"])
    else:
        form.add_error("patient", _("Choose a patient."))
    if not data.get("start_at"):
        form.add_error("start_at", _("Choose one of the open times."))
    status = 400
    if not form.errors:
        try:
            appointment = services.appointment_book(
                request.user,
                patient=patient,
                provider=page_input.chosen_provider(memberships, data.get("provider")),
                appointment_type=page_input.by_public_id(visit_types, data.get("visit_type")),
                start_at=page_input.parse_instant(data["start_at"]),
                reason=data.get("reason", ""),
            )
        except ValidationError as exc:
            status = 409 if services.is_taken(exc) else 400
            found = page_input.messages_of(exc, {"appointment_type": "visit_type"})
            find.is_valid()
            for name in ("provider", "visit_type"):
                for text in found.pop(name, []):
                    find.add_error(name, text)
            page_input.apply_messages(form, found)
        else:
            messages.success(
                request,
                _("The appointment is booked for %(when)s.")
                % {
                    "when": formats.date_format(
                        timezone.localtime(appointment.start_at), "DATETIME_FORMAT"
                    )
                },
            )
            return redirect("scheduling:appointment", appointment_id=appointment.public_id)
    chosen_time = "" if status == 409 else request.POST.get("start_at", "")
    return _book_page(
        request,
        find=find,
        memberships=memberships,
        visit_types=visit_types,
        patient=patient,
        form=form,
        chosen_time=chosen_time,
        status=status,
    )


# --- One appointment ----------------------------------------------------------------------


def _appointment(request, appointment_id):
    """The current practice's appointment (404 for anyone else's)."""
    appointment = selectors.appointment_of(request.practice, appointment_id)
    if appointment is None:
        raise Http404
    return appointment


def _marks(appointment, today: dt.date, zone) -> list[tuple[str, str]]:
    """The marks that apply now: (status, button text)."""
    if appointment.start_at.astimezone(zone).date() > today:
        return []
    words = {
        AppointmentStatus.ARRIVED: _("Mark arrived"),
        AppointmentStatus.FULFILLED: _("Mark completed"),
        AppointmentStatus.NOSHOW: _("Mark no-show"),
    }
    return [
        (status, words[status])
        for status, after in services.MARKS.items()
        if appointment.status in after and status in words
    ]


def _move_choices(appointment, memberships, visit_types):
    """The provider and visit type selects: the practice's, with the appointment's own kept
    as the first choice when it is no longer one of them."""
    form = MoveForm(providers=memberships, visit_types=visit_types)
    provider_choices = list(form.fields["provider"].widget.choices)
    type_choices = list(form.fields["visit_type"].widget.choices)
    if appointment.provider is not None and not any(
        m.user_id == appointment.provider_id for m in memberships
    ):
        provider_choices.insert(0, ("", appointment.provider.display_name))
    if not any(v.pk == appointment.appointment_type_id for v in visit_types):
        type_choices.insert(0, ("", appointment.visit_type or _("Keep the visit type")))
    return provider_choices, type_choices


def _move_form(appointment, memberships, visit_types, data=None) -> MoveForm:
    local = timezone.localtime(appointment.start_at)
    provider_choices, type_choices = _move_choices(appointment, memberships, visit_types)
    form = MoveForm(
        data,
        initial={
            "provider": str(appointment.provider.public_id) if appointment.provider else "",
            "visit_type": str(appointment.appointment_type.public_id)
            if appointment.appointment_type
            else "",
            "date": local.date(),
            "time": local.time().replace(second=0, microsecond=0),
        },
    )
    form.fields["provider"].widget.choices = provider_choices
    form.fields["visit_type"].widget.choices = type_choices
    return form


def _all_messages(form) -> list[str]:
    return [text for errors in form.errors.values() for text in errors] if form.is_bound else []


def _appointment_page(
    request,
    appointment,
    *,
    status: int = 200,
    move_form: MoveForm | None = None,
    cancel_form: CancelForm | None = None,
    mark_error: str = "",
):
    """The appointment with its actions; every showing is an audited read of the patient."""
    practice = request.practice
    zone = services.zone_of(practice)
    memberships = list(selectors.providers(practice))
    visit_types = list(selectors.visit_types(practice))
    upcoming = appointment.status in UPCOMING_STATUSES
    open_days: list[OpenDay] = []
    if (
        upcoming
        and appointment.provider is not None
        and appointment.appointment_type is not None
        and any(m.user_id == appointment.provider_id for m in memberships)
    ):
        open_days = _open_days(
            selectors.open_times(
                practice,
                appointment.provider,
                appointment.appointment_type,
                days=OPEN_DAYS,
                ignore=appointment,
            ),
            Clock(zone),
        )
    move_form = move_form or _move_form(appointment, memberships, visit_types)
    cancel_form = cancel_form or CancelForm()
    # An action refused on an appointment that is no longer upcoming (its forms are not shown):
    # the reason, at the top.
    refused = (
        []
        if upcoming
        else [text for form in (move_form, cancel_form) for text in _all_messages(form)]
    )
    audit_read(
        request.user,
        action="appointment.view",
        patient=appointment.patient,
        details={"appointment": str(appointment.public_id)},
    )
    return render(
        request,
        "scheduling/appointment.html",
        {
            "appointment": appointment,
            "mark": book_page.STATUS_MARKS.get(appointment.status, ""),
            "patient": appointment.patient,
            "practice": practice,
            "upcoming": upcoming,
            "marks": _marks(appointment, page_input.today(practice), zone),
            "move_form": move_form,
            "cancel_form": cancel_form,
            "mark_error": mark_error,
            "refused": refused,
            "open_days": open_days,
            "schedule_section": True,
        },
        status=status,
    )


@staff_required
def appointment(request, appointment_id):
    found = _appointment(request, appointment_id)
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET"])
    return _appointment_page(request, found)


def _back_to(appointment):
    return redirect("scheduling:appointment", appointment_id=appointment.public_id)


@staff_required
@require_POST
def move(request, appointment_id):
    """Move to a new date and time (or one of the open times, sent by its own button), with
    the provider and visit type chosen."""
    found = _appointment(request, appointment_id)
    practice = request.practice
    memberships = list(selectors.providers(practice))
    visit_types = list(selectors.visit_types(practice))
    form = _move_form(found, memberships, visit_types, data=request.POST)
    start_at = provider = visit_type = None
    if form.is_valid():
        data = form.cleaned_data
        picked = request.POST.get("start_at")
        if picked:
            start_at = page_input.parse_instant(picked)
            if start_at is None:
                form.add_error(None, _("Choose one of the open times."))
        elif data["date"] and data["time"]:
            start_at = calendar.local_datetime(
                data["date"], data["time"], services.zone_of(practice)
            )
        else:
            form.add_error("time", _("Enter a date and a time, or choose one of the open times."))
        provider = (
            page_input.chosen_provider(memberships, data["provider"]) if data["provider"] else None
        )
        if data["provider"] and provider is None:
            form.add_error("provider", _("Choose a provider of this practice."))
        visit_type = (
            page_input.by_public_id(visit_types, data["visit_type"]) if data["visit_type"] else None
        )
        if data["visit_type"] and visit_type is None:
            form.add_error("visit_type", _("Choose a visit type of this practice."))
    if form.errors:
        return _appointment_page(request, found, status=400, move_form=form)
    try:
        services.appointment_move(
            request.user,
            appointment=found,
            start_at=start_at,
            provider=provider,
            appointment_type=visit_type,
        )
    except ValidationError as exc:
        found_errors = page_input.messages_of(
            exc, {"appointment_type": "visit_type", "start_at": "time", "status": "__all__"}
        )
        page_input.apply_messages(form, found_errors)
        return _appointment_page(
            request, found, status=409 if services.is_taken(exc) else 400, move_form=form
        )
    messages.success(request, _("The appointment is moved."))
    return _back_to(found)


@staff_required
@require_POST
def cancel(request, appointment_id):
    """Cancel, with a reason (kept for the practice)."""
    found = _appointment(request, appointment_id)
    form = CancelForm(request.POST)
    form.is_valid()
    try:
        services.appointment_cancel(
            request.user, appointment=found, reason=form.cleaned_data.get("reason", "")
        )
    except ValidationError as exc:
        page_input.apply_messages(form, page_input.messages_of(exc, {"status": "__all__"}))
        return _appointment_page(request, found, status=400, cancel_form=form)
    messages.success(request, _("The appointment is cancelled."))
    return _back_to(found)


@staff_required
@require_POST
def mark(request, appointment_id):
    """Mark arrived, completed or no-show."""
    found = _appointment(request, appointment_id)
    status = request.POST.get("status", "")
    try:
        done = services.appointment_mark(request.user, appointment=found, status=status)
    except ValidationError as exc:
        return _appointment_page(request, found, status=400, mark_error=" ".join(exc.messages))
    messages.success(
        request,
        _("The appointment is marked %(status)s.") % {"status": done.get_status_display().lower()},
    )
    return _back_to(found)
