"""The schedule settings pages (SPEC §8.4): providers' working hours, visit types, locations
and blocked times. Administrators change everything; a provider changes their own hours and
blocked times (practices.permissions.can_edit_schedule). Objects named in a URL are looked up
in the current practice first, so another practice's is a 404; each change is a service call
whose errors show next to the fields, nothing changed."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from portico.practices import permissions
from portico.practices.decorators import staff_required
from portico.practices.models import Role
from portico.scheduling import calendar, page_input, selectors, services
from portico.scheduling.calendar import Stretch
from portico.scheduling.forms import (
    PRACTICE_ADDRESS,
    WHOLE_PRACTICE,
    BlockedTimeForm,
    HoursForm,
    LocationForm,
    VisitTypeForm,
)
from portico.scheduling.models import (
    BlockedTime,
    Weekday,
    WorkingHours,
)

# Days of open times the booking and move forms offer, from the day chosen.
OPEN_DAYS = 14
# Charts a patient search on the booking page lists.
SEARCH_ROWS = 20


# --- Schedule settings ----------------------------------------------------------------------


def _hours_lines(rows, clock_of) -> list[str]:
    """A provider's regular week in words: one line per working weekday."""
    by_day: dict[int, list[str]] = defaultdict(list)
    for w in rows:
        where = f" ({w.location.name})" if w.location is not None else ""
        by_day[w.weekday].append(f"{clock_of(w.start_time)} – {clock_of(w.end_time)}{where}")
    return [f"{Weekday(day).label}: {', '.join(by_day[day])}" for day in sorted(by_day)]


def _time_text(value: dt.time) -> str:
    return formats.time_format(value, "TIME_FORMAT")


@staff_required
def settings_home(request):
    """Schedule settings: each provider's weekly hours, the visit types and locations, and a
    link to the blocked times. Any member may look; the edit links show for those who may."""
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET"])
    practice = request.practice
    membership = request.membership
    memberships = list(selectors.providers(practice))
    hours: dict[int, list] = defaultdict(list)
    for w in WorkingHours.objects.filter(practice=practice).select_related("location"):
        hours[w.provider_id].append(w)
    providers = [
        {
            "membership": m,
            "lines": _hours_lines(hours.get(m.user_id, []), _time_text),
            "may_edit": permissions.can_edit_schedule(membership, m.user),
        }
        for m in memberships
    ]
    is_admin = permissions.can_manage_settings(membership)
    return render(
        request,
        "scheduling/settings.html",
        {
            "providers": providers,
            "visit_types": list(selectors.visit_types(practice, active_only=False)),
            "locations": list(selectors.locations(practice, active_only=False)),
            "is_admin": is_admin,
            "may_block": is_admin or membership.role == Role.PROVIDER,
            "schedule_section": True,
        },
    )


def _hours_rows(existing) -> dict[tuple[int, int], WorkingHours]:
    by_day: dict[int, list] = defaultdict(list)
    for w in sorted(existing, key=lambda w: (w.weekday, w.start_time)):
        by_day[w.weekday].append(w)
    return {(day, n): w for day, rows in by_day.items() for n, w in enumerate(rows)}


@staff_required
def hours(request, user_id):
    """A provider's working hours: a weekday grid of up to two stretches a day (start, end,
    location), saved at once. An administrator edits anyone's; a provider their own."""
    practice = request.practice
    memberships = list(selectors.providers(practice))
    membership = page_input.by_public_id(memberships, user_id, key=lambda m: m.user.public_id)
    if membership is None:
        raise Http404
    provider = membership.user
    permissions.require(
        permissions.can_edit_schedule(request.membership, provider),
        _("Only an administrator or the provider can change this schedule."),
    )
    locations = list(selectors.locations(practice))
    existing = _hours_rows(
        WorkingHours.objects.filter(practice=practice, provider=provider).select_related("location")
    )
    per_day: dict[int, int] = defaultdict(int)
    for day, _n in existing:
        per_day[day] += 1
    if request.method == "POST":
        form = HoursForm(request.POST, locations=locations, per_day=per_day)
        return _hours_post(request, membership, form, locations)
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "POST"])
    initial = {}
    for (day, n), w in existing.items():
        initial[f"{day}-{n}-start"] = w.start_time
        initial[f"{day}-{n}-end"] = w.end_time
        initial[f"{day}-{n}-location"] = str(w.location.public_id) if w.location else ""
    form = HoursForm(initial=initial, locations=locations, per_day=per_day)
    return _hours_page(request, membership, form)


def _hours_page(request, membership, form, status: int = 200):
    return render(
        request,
        "scheduling/hours.html",
        {
            "provider_membership": membership,
            "form": form,
            "is_admin": permissions.can_manage_settings(request.membership),
            "schedule_section": True,
        },
        status=status,
    )


def _hours_post(request, membership, form: HoursForm, locations):
    """Save the week at once; a stretch the service refuses ("stretches.N") gets its message
    beside its own row, and the form keeps what was typed."""
    if not form.is_valid():
        return _hours_page(request, membership, form, status=400)
    data = form.cleaned_data
    stretches: list[Stretch] = []
    where: list[tuple[int, int]] = []
    for _label, rows in form.days():
        for row in rows:
            key = (row.weekday, row.n)
            start_time, end_time = data[row.start.name], data[row.end.name]
            if start_time is None and end_time is None:
                continue
            if start_time is None or end_time is None:
                form.add_row_error(*key, _("Enter a start and an end time."))
                continue
            location_id = None
            if data[row.location.name] != PRACTICE_ADDRESS:
                chosen = page_input.by_public_id(locations, data[row.location.name])
                if chosen is None:
                    form.add_row_error(*key, _("Choose a location of this practice."))
                    continue
                location_id = chosen.pk
            stretches.append(Stretch(row.weekday, start_time, end_time, location_id))
            where.append(key)
    if not form.row_errors:
        try:
            services.working_hours_set(
                request.user,
                practice=request.practice,
                provider=membership.user,
                stretches=stretches,
            )
        except ValidationError as exc:
            for name, texts in page_input.messages_of(exc, {}).items():
                index = name.removeprefix("stretches.")
                for text in texts:
                    if index.isdigit() and int(index) < len(where):
                        form.add_row_error(*where[int(index)], text)
                    else:
                        form.add_error(None, text)
        else:
            messages.success(
                request,
                _("%(name)s's working hours are saved.") % {"name": membership.user.display_name},
            )
            return redirect("scheduling:settings")
    return _hours_page(request, membership, form, status=400)


def _require_admin(request) -> None:
    permissions.require(
        permissions.can_manage_settings(request.membership),
        _("Only administrators can change visit types and locations."),
    )


def _or_404(found):
    if found is None:
        raise Http404
    return found


@staff_required
def visit_type_edit(request, visit_type_id=None):
    """Add or change a visit type (name, length); untick "Offered for booking" to retire one
    (booked appointments keep it)."""
    practice = request.practice
    visit_type = (
        _or_404(selectors.visit_type_of(practice, visit_type_id, active_only=False))
        if visit_type_id
        else None
    )
    _require_admin(request)
    if request.method == "POST":
        form = VisitTypeForm(request.POST)
        if form.is_valid():
            try:
                saved = services.visit_type_save(
                    request.user,
                    practice=practice,
                    visit_type=visit_type,
                    name=form.cleaned_data["name"],
                    duration_minutes=form.cleaned_data["duration_minutes"],
                    is_active=form.cleaned_data["is_active"],
                )
            except ValidationError as exc:
                page_input.apply_messages(form, page_input.messages_of(exc, {}))
            else:
                messages.success(
                    request, _("The visit type “%(name)s” is saved.") % {"name": saved.name}
                )
                return redirect("scheduling:settings")
        status = 400
    elif request.method in ("GET", "HEAD"):
        initial = {"is_active": True}
        if visit_type is not None:
            initial = {
                "name": visit_type.name,
                "duration_minutes": visit_type.duration_minutes,
                "is_active": visit_type.is_active,
            }
        form, status = VisitTypeForm(initial=initial), 200
    else:
        return HttpResponseNotAllowed(["GET", "POST"])
    return render(
        request,
        "scheduling/visit_type_form.html",
        {"form": form, "visit_type": visit_type, "is_admin": True, "schedule_section": True},
        status=status,
    )


@staff_required
def location_edit(request, location_id=None):
    """Add or change a location (name, address, phone); untick "In use" to retire one."""
    practice = request.practice
    location = _or_404(selectors.location_of(practice, location_id)) if location_id else None
    _require_admin(request)
    if request.method == "POST":
        form = LocationForm(request.POST)
        if form.is_valid():
            values = dict(form.cleaned_data)
            is_active = values.pop("is_active")
            try:
                saved = services.location_save(
                    request.user,
                    practice=practice,
                    location=location,
                    is_active=is_active,
                    **values,
                )
            except ValidationError as exc:
                page_input.apply_messages(form, page_input.messages_of(exc, {}))
            else:
                messages.success(
                    request, _("The location “%(name)s” is saved.") % {"name": saved.name}
                )
                return redirect("scheduling:settings")
        status = 400
    elif request.method in ("GET", "HEAD"):
        initial: dict = {"is_active": True}
        if location is not None:
            initial = {name: getattr(location, name) for name in services.LOCATION_FIELDS}
            initial["is_active"] = location.is_active
        form, status = LocationForm(initial=initial), 200
    else:
        return HttpResponseNotAllowed(["GET", "POST"])
    return render(
        request,
        "scheduling/location_form.html",
        {"form": form, "location": location, "is_admin": True, "schedule_section": True},
        status=status,
    )


def _may_block(membership) -> bool:
    return permissions.can_manage_settings(membership) or (
        permissions.can_work_in_charts(membership) and membership.role == Role.PROVIDER
    )


@staff_required
def blocked(request):
    """Blocked times: the upcoming ones, and a form to add one (an administrator for anyone or
    the whole practice, a provider for themselves). Staff get 403."""
    practice = request.practice
    membership = request.membership
    permissions.require(
        _may_block(membership),
        _("Only an administrator or a provider can block time."),
    )
    is_admin = permissions.can_manage_settings(membership)
    memberships = list(selectors.providers(practice))
    choosable = (
        memberships if is_admin else [m for m in memberships if m.user_id == membership.user_id]
    )
    form_kwargs = {"providers": choosable, "whole_practice": is_admin}
    if request.method == "POST":
        form = BlockedTimeForm(request.POST, **form_kwargs)
        if form.is_valid():
            data = form.cleaned_data
            provider = None
            if data["provider"] != WHOLE_PRACTICE:
                provider = page_input.chosen_provider(memberships, data["provider"])
                if provider is None:
                    form.add_error("provider", _("Choose a provider of this practice."))
            if not form.errors:
                zone = services.zone_of(practice)
                try:
                    services.blocked_time_add(
                        request.user,
                        practice=practice,
                        provider=provider,
                        start_at=calendar.local_datetime(
                            data["start_date"], data["start_time"], zone
                        ),
                        end_at=calendar.local_datetime(data["end_date"], data["end_time"], zone),
                        label=data["label"],
                    )
                except ValidationError as exc:
                    page_input.apply_messages(
                        form,
                        page_input.messages_of(
                            exc, {"start_at": "start_time", "end_at": "end_time"}
                        ),
                    )
                else:
                    messages.success(request, _("The time is blocked."))
                    return redirect("scheduling:blocked")
        status = 400
    elif request.method in ("GET", "HEAD"):
        default = "" if is_admin else str(request.user.public_id)
        form, status = BlockedTimeForm(initial={"provider": default}, **form_kwargs), 200
    else:
        return HttpResponseNotAllowed(["GET", "POST"])
    upcoming = list(
        BlockedTime.objects.filter(practice=practice, end_at__gt=timezone.now())
        .select_related("provider")
        .order_by("start_at", "id")
    )
    for item in upcoming:
        item.may_remove = is_admin or (
            item.provider_id is not None and item.provider_id == request.user.pk
        )
    return render(
        request,
        "scheduling/blocked.html",
        {
            "form": form,
            "upcoming": upcoming,
            "practice": practice,
            "is_admin": is_admin,
            "schedule_section": True,
        },
        status=status,
    )


@staff_required
@require_POST
def blocked_remove(request, blocked_id):
    """Free a blocked time again (an administrator any, a provider their own)."""
    found = selectors.blocked_time_of(request.practice, blocked_id)
    if found is None:
        raise Http404
    services.blocked_time_remove(request.user, blocked_time=found)
    messages.success(request, _("The blocked time is removed: it can be booked again."))
    return redirect("scheduling:blocked")
