"""State changes of the appointment book (SPEC §8.4 schedule part, §8.7, §8.8). Each checks the
actor's permission, validates (a clear message per field, nothing changed on error), changes
state, audits and queues the emails, in one transaction.

No double booking: `_refuse_overlap` checks inside the booking transaction (serialised on
SQLite, whose write transactions are IMMEDIATE); on PostgreSQL the exclusion constraint
`appointment_no_overlap` also refuses the loser of a race, which `_saved` turns into the same
message.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Sequence

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, OperationalError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from portico.audit.services import audit_record
from portico.charts.record_cache import record_changed
from portico.charts.validation import has_control_characters
from portico.core.validation import max_length_of
from portico.notifications.services import email_enqueue
from portico.portal.models import AccessState
from portico.portal.services import NO_ACCESS_MESSAGE
from portico.practices import permissions
from portico.practices import selectors as practice_selectors
from portico.practices.models import Membership, Role
from portico.scheduling import calendar, signals
from portico.scheduling.calendar import Stretch
from portico.scheduling.models import (
    HOLDS_TIME,
    UPCOMING_STATUSES,
    Appointment,
    AppointmentStatus,
    BlockedTime,
    Location,
    ReminderOptOut,
    VisitType,
    WorkingHours,
)

# The message a refused double booking gets, with the code pages and the API look for to
# show the open times again.
TAKEN_CODE = "taken"
OVERLAP_CONSTRAINT = "appointment_no_overlap"


def zone_of(practice) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(practice.time_zone)


def _text_errors(model, values: dict[str, str], errors: dict[str, list[str]]) -> None:
    for field, value in values.items():
        if has_control_characters(value):
            errors.setdefault(field, []).append(
                _("Remove control characters (such as NUL) from this value.")
            )
        elif len(value) > (max_length_of(model, field) or 0):
            errors.setdefault(field, []).append(_("This is too long."))


def schedulable_provider(practice, provider) -> Membership | None:
    """The provider's membership when they are a provider working at the practice now."""
    membership = practice_selectors.membership_for(provider, practice)
    if membership is None or membership.role != Role.PROVIDER:
        return None
    return membership


def _require_actor(actor, appointment: Appointment, access=None) -> None:
    """Staff of the appointment's practice act on it; so does the patient, through their own
    chart's active portal access (`access`): a revoked patient is refused with the access
    error on their next request."""
    if access is None:
        permissions.require_member(actor, appointment.practice)
        return
    if (
        actor is None
        or access.account_id != actor.pk
        or access.patient_id != appointment.patient_id
        or access.effective_state != AccessState.ACTIVE
    ):
        raise PermissionDenied(str(NO_ACCESS_MESSAGE))


def _require_schedule_editor(actor, practice, provider) -> None:
    membership = permissions.require_member(actor, practice)
    permissions.require(
        permissions.can_edit_schedule(membership, provider),
        _("Only an administrator or the provider can change this schedule."),
    )


# --- Locations and visit types (administrators) ----------------------------------------------

LOCATION_FIELDS = (
    "name",
    "address_line1",
    "address_line2",
    "city",
    "state",
    "postal_code",
    "phone",
)


@transaction.atomic
def location_save(
    actor, *, practice, location: Location | None = None, is_active: bool = True, **fields: str
) -> Location:
    """Add a location of the practice, or change one (name and address)."""
    permissions.require(
        permissions.can_manage_settings(permissions.require_member(actor, practice))
    )
    values = {name: (fields.get(name) or "").strip() for name in LOCATION_FIELDS}
    errors: dict[str, list[str]] = {}
    if not values["name"]:
        errors["name"] = [_("Give the location a name.")]
    _text_errors(Location, values, errors)
    same_name = Location.objects.filter(practice=practice, name__iexact=values["name"])
    if location is not None:
        same_name = same_name.exclude(pk=location.pk)
    if values["name"] and same_name.exists():
        errors.setdefault("name", []).append(_("The practice already has a location by this name."))
    if errors:
        raise ValidationError(errors)
    if location is None:
        location = Location(practice=practice)
    for name, value in values.items():
        setattr(location, name, value)
    location.is_active = is_active
    location.save()
    audit_record(
        actor,
        action="schedule.location_saved",
        practice=practice,
        details={"location": str(location.public_id), "active": is_active},
    )
    return location


@transaction.atomic
def visit_type_save(
    actor,
    *,
    practice,
    name: str,
    duration_minutes,
    visit_type: VisitType | None = None,
    is_active: bool = True,
) -> VisitType:
    """Add a visit type of the practice ("Follow-up", 20 minutes), or change one. Appointments
    already booked keep their length."""
    permissions.require(
        permissions.can_manage_settings(permissions.require_member(actor, practice))
    )
    name = (name or "").strip()
    errors: dict[str, list[str]] = {}
    if not name:
        errors["name"] = [_("Give the visit type a name.")]
    _text_errors(VisitType, {"name": name}, errors)
    same_name = VisitType.objects.filter(practice=practice, name__iexact=name)
    if visit_type is not None:
        same_name = same_name.exclude(pk=visit_type.pk)
    if name and same_name.exists():
        errors.setdefault("name", []).append(
            _("The practice already has a visit type by this name.")
        )
    try:
        minutes = int(duration_minutes)
    except (TypeError, ValueError):
        minutes = 0
    if not VisitType.MIN_MINUTES <= minutes <= VisitType.MAX_MINUTES:
        errors["duration_minutes"] = [
            _("Enter a length from %(low)d to %(high)d minutes.")
            % {"low": VisitType.MIN_MINUTES, "high": VisitType.MAX_MINUTES}
        ]
    if errors:
        raise ValidationError(errors)
    if visit_type is None:
        visit_type = VisitType(practice=practice)
    visit_type.name = name
    visit_type.duration_minutes = minutes
    visit_type.is_active = is_active
    visit_type.save()
    audit_record(
        actor,
        action="schedule.visit_type_saved",
        practice=practice,
        details={
            "visit_type": str(visit_type.public_id),
            "minutes": minutes,
            "active": is_active,
        },
    )
    return visit_type


# --- Working hours and blocked times (administrators, or the provider) ------------------------


@transaction.atomic
def working_hours_set(
    actor, *, practice, provider, stretches: Sequence[Stretch]
) -> list[WorkingHours]:
    """Replace a provider's regular week with `stretches` (weekday, local start and end,
    location id or None). Stretches of one weekday may not overlap. Appointments already booked
    stay where they are."""
    _require_schedule_editor(actor, practice, provider)
    errors: dict[str, list[str]] = {}
    if schedulable_provider(practice, provider) is None:
        errors["provider"] = [_("Choose a provider of this practice.")]
    locations = set(
        Location.objects.filter(practice=practice, is_active=True).values_list("id", flat=True)
    )
    by_day: dict[int, list[Stretch]] = {}
    for index, stretch in enumerate(stretches):
        where = f"stretches.{index}"
        if not isinstance(stretch.weekday, int) or not 0 <= stretch.weekday <= 6:
            errors.setdefault(where, []).append(_("Choose a day of the week."))
            continue
        if not isinstance(stretch.start_time, dt.time) or not isinstance(stretch.end_time, dt.time):
            errors.setdefault(where, []).append(_("Enter a start and an end time."))
            continue
        if stretch.end_time <= stretch.start_time:
            errors.setdefault(where, []).append(_("The end time must be after the start time."))
            continue
        if stretch.location_id is not None and stretch.location_id not in locations:
            errors.setdefault(where, []).append(_("Choose a location of this practice."))
            continue
        for other in by_day.get(stretch.weekday, []):
            if stretch.start_time < other.end_time and other.start_time < stretch.end_time:
                errors.setdefault(where, []).append(_("This overlaps other hours on the same day."))
                break
        by_day.setdefault(stretch.weekday, []).append(stretch)
    if errors:
        raise ValidationError(errors)
    WorkingHours.objects.filter(practice=practice, provider=provider).delete()
    rows = WorkingHours.objects.bulk_create(
        WorkingHours(
            practice=practice,
            provider=provider,
            weekday=s.weekday,
            start_time=s.start_time.replace(second=0, microsecond=0),
            end_time=s.end_time.replace(second=0, microsecond=0),
            location_id=s.location_id,
        )
        for s in sorted(stretches, key=lambda s: (s.weekday, s.start_time))
    )
    audit_record(
        actor,
        action="schedule.hours_set",
        practice=practice,
        details={"provider": provider.pk, "stretches": len(rows)},
    )
    return rows


def _aware(value, errors: dict[str, list[str]], field: str) -> bool:
    if not isinstance(value, dt.datetime) or value.tzinfo is None:
        errors.setdefault(field, []).append(_("Enter a valid date and time."))
        return False
    return True


@transaction.atomic
def blocked_time_add(
    actor, *, practice, start_at: dt.datetime, end_at: dt.datetime, provider=None, label: str = ""
) -> BlockedTime:
    """Block time nobody can book: for one provider (a meeting) or, without a provider, for
    the whole practice (a holiday). Appointments already booked in it stay."""
    if provider is None:
        permissions.require(
            permissions.can_manage_settings(permissions.require_member(actor, practice))
        )
    else:
        _require_schedule_editor(actor, practice, provider)
    label = (label or "").strip()
    errors: dict[str, list[str]] = {}
    if provider is not None and schedulable_provider(practice, provider) is None:
        errors["provider"] = [_("Choose a provider of this practice.")]
    if _aware(start_at, errors, "start_at") and _aware(end_at, errors, "end_at"):
        if end_at <= start_at:
            errors["end_at"] = [_("The end must be after the start.")]
        elif end_at - start_at > dt.timedelta(days=366):
            errors["end_at"] = [_("Block at most a year at a time.")]
    _text_errors(BlockedTime, {"label": label}, errors)
    if errors:
        raise ValidationError(errors)
    blocked = BlockedTime.objects.create(
        practice=practice, provider=provider, start_at=start_at, end_at=end_at, label=label
    )
    audit_record(
        actor,
        action="schedule.blocked_time_added",
        practice=practice,
        details={"blocked_time": str(blocked.public_id), "provider": provider and provider.pk},
    )
    return blocked


@transaction.atomic
def blocked_time_remove(actor, *, blocked_time: BlockedTime) -> None:
    """Free a blocked time again."""
    practice = blocked_time.practice
    if blocked_time.provider_id is None:
        permissions.require(
            permissions.can_manage_settings(permissions.require_member(actor, practice))
        )
    else:
        _require_schedule_editor(actor, practice, blocked_time.provider)
    public_id = str(blocked_time.public_id)
    blocked_time.delete()
    audit_record(
        actor,
        action="schedule.blocked_time_removed",
        practice=practice,
        details={"blocked_time": public_id},
    )


# --- Appointments -----------------------------------------------------------------------------


def _stretches(practice, provider) -> list[Stretch]:
    return [
        Stretch(w.weekday, w.start_time, w.end_time, w.location_id)
        for w in WorkingHours.objects.filter(practice=practice, provider=provider)
    ]


def _check_time(
    practice,
    provider,
    start_at: dt.datetime,
    end_at: dt.datetime,
    errors: dict[str, list[str]],
    *,
    check_hours: bool,
) -> int | None:
    """Add an error when [start_at, end_at) is outside the provider's working hours or in a
    blocked time; return the location of the working hours it falls in."""
    zone = zone_of(practice)
    location_id = None
    if check_hours:
        first_day = start_at.astimezone(zone).date()
        days = (end_at.astimezone(zone).date() - first_day).days + 1
        hours = calendar.working_intervals(_stretches(practice, provider), first_day, days, zone)
        within = calendar.containing(hours, start_at, end_at)
        if within is None:
            errors.setdefault("start_at", []).append(
                _("This time is outside %(name)s's working hours.")
                % {"name": provider.display_name}
            )
            return None
        location_id = within.location_id
    blocked = (
        BlockedTime.objects.filter(practice=practice, start_at__lt=end_at, end_at__gt=start_at)
        .filter(Q(provider=provider) | Q(provider__isnull=True))
        .first()
    )
    if blocked is not None:
        errors.setdefault("start_at", []).append(
            _("This time is blocked (%(label)s).") % {"label": blocked.label or _("no booking")}
        )
    return location_id


def _taken_error() -> ValidationError:
    return ValidationError(
        {
            "start_at": [
                ValidationError(
                    _("That time is already booked. Choose one of the open times."),
                    code=TAKEN_CODE,
                )
            ]
        }
    )


def is_taken(error: ValidationError) -> bool:
    """Whether a service refused a time because another booking holds it (the pages and the
    API then show the open times again)."""
    return any(
        getattr(e, "code", None) == TAKEN_CODE
        for e in getattr(error, "error_dict", {}).get("start_at", [])
    )


def _refuse_overlap(provider, start_at, end_at, *, exclude_pk=None) -> None:
    """Refuse a time that overlaps another appointment of the provider that holds its time.
    Runs in the booking transaction: on SQLite that transaction holds the write lock from its
    start (IMMEDIATE), so no other booking can slip in between this check and the insert."""
    clashes = Appointment.objects.filter(
        HOLDS_TIME,
        provider=provider,
        start_at__lt=end_at,
        start_at__gt=start_at - dt.timedelta(hours=Appointment.MAX_LENGTH_HOURS),
        end_at__gt=start_at,
    )
    if exclude_pk is not None:
        clashes = clashes.exclude(pk=exclude_pk)
    if clashes.exists():
        raise _taken_error()


# PostgreSQL's "deadlock detected": two bookings of one time that passed the check together
# both insert, and the exclusion check of each then waits for the other's row; the database
# aborts one of them to break the tie.
DEADLOCK_SQLSTATE = "40P01"
SAVE_ATTEMPTS = 3


def _saved(appointment: Appointment, **save_kwargs) -> None:
    """Save in a savepoint; the PostgreSQL exclusion constraint's refusal (a race lost to a
    booking that committed after our check) becomes the same message as the check's. A save
    aborted to break a deadlock with a simultaneous booking is tried again: by then the other
    booking has committed (the retry is refused as taken) or rolled back (the retry wins)."""
    for attempt in range(1, SAVE_ATTEMPTS + 1):
        try:
            with transaction.atomic():
                appointment.save(**save_kwargs)
            return
        except IntegrityError as exc:
            if OVERLAP_CONSTRAINT in str(exc):
                raise _taken_error() from exc
            raise
        except OperationalError as exc:
            deadlock = getattr(exc.__cause__, "sqlstate", None) == DEADLOCK_SQLSTATE
            if not deadlock or attempt == SAVE_ATTEMPTS:
                raise


def _valid_type(practice, appointment_type, errors) -> VisitType | None:
    if (
        not isinstance(appointment_type, VisitType)
        or appointment_type.practice_id != practice.pk
        or not appointment_type.is_active
    ):
        errors["appointment_type"] = [_("Choose a visit type of this practice.")]
        return None
    return appointment_type


def _notify(appointment: Appointment, kind: str, email_to: str = "") -> None:
    """Queue a status email (booked, moved, cancelled) to the patient's address on file (or
    `email_to`: the address typed in an online request); it goes even with reminders off, and
    carries the calendar file."""
    to_address = email_to or appointment.patient.email
    if to_address:
        email_enqueue(
            kind=f"scheduling.{kind}",
            subject_id=appointment.public_id,
            to_address=to_address,
            practice=appointment.practice,
            patient=appointment.patient,
        )


@transaction.atomic
def appointment_book(
    actor,
    *,
    patient,
    provider,
    appointment_type: VisitType | None,
    start_at: dt.datetime,
    reason: str = "",
    status: str = AppointmentStatus.BOOKED,
    check_hours: bool = True,
    allow_past: bool = False,
    notify: bool = True,
    email_to: str = "",
) -> Appointment:
    """Book a patient with a provider for a visit type at `start_at` (its length is the visit
    type's). Refused with a clear message when the time has passed, is outside the provider's
    working hours or blocked, or overlaps another of the provider's appointments.

    `check_hours=False` books outside working hours (seeded history); `allow_past` records a
    visit that already happened (seeding and imports, never the pages)."""
    practice = patient.practice
    permissions.require_member(actor, practice)
    reason = (reason or "").strip()
    errors: dict[str, list[str]] = {}
    if provider is None or schedulable_provider(practice, provider) is None:
        errors["provider"] = [_("Choose a provider of this practice.")]
    visit_type = _valid_type(practice, appointment_type, errors)
    allowed = AppointmentStatus.values if allow_past else UPCOMING_STATUSES
    if status not in allowed:
        errors["status"] = [_("Choose one of the listed values.")]
    _text_errors(Appointment, {"reason": reason}, errors)
    location_id = None
    if _aware(start_at, errors, "start_at") and visit_type is not None:
        end_at = start_at + dt.timedelta(minutes=visit_type.duration_minutes)
        if not allow_past and start_at < timezone.now():
            errors["start_at"] = [_("Choose a time that has not passed.")]
        elif "provider" not in errors:
            location_id = _check_time(
                practice, provider, start_at, end_at, errors, check_hours=check_hours
            )
    if errors or visit_type is None:
        raise ValidationError(errors)
    _refuse_overlap(provider, start_at, end_at)
    appointment = Appointment(
        practice=practice,
        patient=patient,
        provider=provider,
        start_at=start_at,
        end_at=end_at,
        appointment_type=visit_type,
        visit_type=visit_type.name,
        location_id=location_id,
        reason=reason,
        status=status,
        scheduled_at=timezone.now(),
    )
    _saved(appointment)
    record_changed(patient.pk)
    audit_record(
        actor,
        action="appointment.create",
        practice=practice,
        patient=patient,
        details={"appointment": str(appointment.public_id)},
    )
    if notify and appointment.status in UPCOMING_STATUSES and start_at > timezone.now():
        _notify(appointment, "booked", email_to)
    if appointment.status == AppointmentStatus.BOOKED and start_at > timezone.now():
        signals.appointment_booked.send(sender=Appointment, appointment=appointment, actor=actor)
    return appointment


def _locked(appointment: Appointment) -> Appointment:
    return (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("practice", "patient", "provider")
        .get(pk=appointment.pk)
    )


@transaction.atomic
def appointment_move(
    actor,
    *,
    appointment: Appointment,
    start_at: dt.datetime,
    provider=None,
    appointment_type: VisitType | None = None,
    email_to: str = "",
) -> Appointment:
    """Move an upcoming appointment to another time (and, optionally, provider or visit type),
    with the same checks as booking. The patient gets a "moved" email whose calendar file
    replaces the old entry; reminders follow the new time."""
    practice = appointment.practice
    permissions.require_member(actor, practice)
    appointment = _locked(appointment)
    provider = provider or appointment.provider
    errors: dict[str, list[str]] = {}
    if appointment.status not in UPCOMING_STATUSES:
        raise ValidationError(
            {"status": [_("Only a pending, tentative or confirmed appointment can be moved.")]}
        )
    if provider is None or schedulable_provider(practice, provider) is None:
        errors["provider"] = [_("Choose a provider of this practice.")]
    visit_type = appointment_type or appointment.appointment_type
    length = (
        dt.timedelta(minutes=visit_type.duration_minutes)
        if visit_type is not None
        else appointment.end_at - appointment.start_at
    )
    if appointment_type is not None:
        _valid_type(practice, appointment_type, errors)
    location_id = appointment.location_id
    if _aware(start_at, errors, "start_at"):
        end_at = start_at + length
        if start_at < timezone.now():
            errors["start_at"] = [_("Choose a time that has not passed.")]
        elif "provider" not in errors:
            location_id = _check_time(
                practice, provider, start_at, end_at, errors, check_hours=True
            )
    if errors:
        raise ValidationError(errors)
    if (start_at, end_at, provider.pk) == (
        appointment.start_at,
        appointment.end_at,
        appointment.provider_id,
    ) and visit_type == appointment.appointment_type:
        return appointment
    _refuse_overlap(provider, start_at, end_at, exclude_pk=appointment.pk)
    old_start = appointment.start_at
    appointment.start_at, appointment.end_at = start_at, end_at
    appointment.provider = provider
    if visit_type is not None:
        appointment.appointment_type = visit_type
        appointment.visit_type = visit_type.name
    appointment.location_id = location_id
    appointment.sequence += 1
    appointment.scheduled_at = timezone.now()
    _saved(appointment)
    record_changed(appointment.patient_id)
    audit_record(
        actor,
        action="appointment.move",
        practice=practice,
        patient=appointment.patient,
        details={
            "appointment": str(appointment.public_id),
            "from": old_start.isoformat(),
            "to": start_at.isoformat(),
        },
    )
    _notify(appointment, "moved", email_to)
    return appointment


@transaction.atomic
def appointment_cancel(
    actor,
    *,
    appointment: Appointment,
    reason: str,
    access=None,
    notify: bool = True,
    email_to: str = "",
) -> Appointment:
    """Cancel an upcoming appointment with a reason (kept for the practice, never emailed). Its
    time is free at once; the patient gets a "cancelled" email whose calendar file removes the
    entry, and no reminder goes for it any more. Cancelling twice changes nothing.

    With the chart's portal `access`, the patient cancels it themselves (the online booking
    services decide when the practice's cancellation policy lets them)."""
    practice = appointment.practice
    _require_actor(actor, appointment, access)
    appointment = _locked(appointment)
    if appointment.status == AppointmentStatus.CANCELLED:
        return appointment
    reason = (reason or "").strip()
    errors: dict[str, list[str]] = {}
    if appointment.status not in UPCOMING_STATUSES:
        errors["status"] = [
            _("Only a pending, tentative or confirmed appointment can be cancelled.")
        ]
    if not reason:
        errors["reason"] = [_("Say why the appointment is cancelled.")]
    _text_errors(Appointment, {"cancel_reason": reason}, errors)
    if errors:
        if "cancel_reason" in errors:
            errors["reason"] = errors.pop("cancel_reason")
        raise ValidationError(errors)
    old = appointment.status
    appointment.status = AppointmentStatus.CANCELLED
    appointment.cancel_reason = reason
    appointment.sequence += 1
    appointment.save(update_fields=["status", "cancel_reason", "sequence", "updated_at"])
    record_changed(appointment.patient_id)
    audit_record(
        actor,
        action="appointment.cancel",
        practice=practice,
        patient=appointment.patient,
        details={"appointment": str(appointment.public_id), "from": old},
    )
    if notify and appointment.end_at > timezone.now():
        _notify(appointment, "cancelled", email_to)
    return appointment


@transaction.atomic
def appointment_confirm(
    actor, *, appointment: Appointment, access=None, notify: bool = True, email_to: str = ""
) -> Appointment:
    """Confirm a tentative (proposed) or pending appointment: by the patient accepting the
    practice's proposed time in the portal (`access`), or by staff (the patient agreed on the
    phone). The patient gets the "booked" email with its calendar file. Confirming twice
    changes nothing."""
    _require_actor(actor, appointment, access)
    appointment = _locked(appointment)
    if appointment.status == AppointmentStatus.BOOKED:
        return appointment
    if appointment.status not in (AppointmentStatus.PROPOSED, AppointmentStatus.PENDING):
        raise ValidationError(
            {"status": [_("Only a pending or tentative appointment can be confirmed.")]}
        )
    if appointment.start_at < timezone.now():
        raise ValidationError({"status": [_("This appointment's time has passed.")]})
    old = appointment.status
    appointment.status = AppointmentStatus.BOOKED
    appointment.sequence += 1
    appointment.save(update_fields=["status", "sequence", "updated_at"])
    record_changed(appointment.patient_id)
    audit_record(
        actor,
        action="appointment.confirm",
        practice=appointment.practice,
        patient=appointment.patient,
        details={"appointment": str(appointment.public_id), "from": old},
    )
    if notify:
        _notify(appointment, "booked", email_to)
    signals.appointment_booked.send(sender=Appointment, appointment=appointment, actor=actor)
    return appointment


# Which status each front-desk mark may follow.
MARKS: dict[str, tuple[str, ...]] = {
    AppointmentStatus.ARRIVED: (AppointmentStatus.BOOKED, AppointmentStatus.PENDING),
    AppointmentStatus.FULFILLED: (
        AppointmentStatus.BOOKED,
        AppointmentStatus.ARRIVED,
        AppointmentStatus.PENDING,
    ),
    AppointmentStatus.NOSHOW: (AppointmentStatus.BOOKED, AppointmentStatus.PENDING),
}


@transaction.atomic
def appointment_mark(actor, *, appointment: Appointment, status: str) -> Appointment:
    """Mark an appointment arrived, completed or no-show, from its day on (not before)."""
    practice = appointment.practice
    permissions.require_member(actor, practice)
    appointment = _locked(appointment)
    if appointment.status == status:
        return appointment
    if status not in MARKS:
        raise ValidationError({"status": [_("Choose arrived, completed or no-show.")]})
    if appointment.status not in MARKS[status]:
        raise ValidationError(
            {
                "status": [
                    _("A %(current)s appointment cannot be marked %(new)s.")
                    % {
                        "current": appointment.get_status_display().lower(),
                        "new": AppointmentStatus(status).label.lower(),
                    }
                ]
            }
        )
    zone = zone_of(practice)
    if timezone.now().astimezone(zone).date() < appointment.start_at.astimezone(zone).date():
        raise ValidationError(
            {"status": [_("This can be marked on the day of the appointment or later.")]}
        )
    old = appointment.status
    appointment.status = status
    appointment.save(update_fields=["status", "updated_at"])
    record_changed(appointment.patient_id)
    audit_record(
        actor,
        action="appointment.status",
        practice=practice,
        patient=appointment.patient,
        details={"appointment": str(appointment.public_id), "from": old, "to": status},
    )
    return appointment


# --- Reminders ----------------------------------------------------------------------------------


@transaction.atomic
def reminder_opt_out_set(actor, *, patient, opted_out: bool, source: str = "chart") -> bool:
    """Turn a patient's appointment reminders off (or on again). `actor` None is the patient
    through the unsubscribe link. Returns whether anything changed."""
    if actor is not None:
        permissions.require_member(actor, patient.practice)
    if opted_out:
        _, changed = ReminderOptOut.objects.get_or_create(
            patient=patient, defaults={"source": source}
        )
    else:
        changed = bool(ReminderOptOut.objects.filter(patient=patient).delete()[0])
    if changed:
        audit_record(
            actor,
            action="appointment.reminders_off" if opted_out else "appointment.reminders_on",
            practice=patient.practice,
            patient=patient,
            details={"source": source},
            actor_label="" if actor is not None else "patient (unsubscribe link)",
        )
    return changed
