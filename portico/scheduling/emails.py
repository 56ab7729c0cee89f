"""The appointment emails (SPEC §8.7): booked, moved and cancelled (each with the calendar file),
and the reminders one week and one day before.

They say what the patient needs to be there: the date, the local time with its zone, the
provider, the practice with its phone, the address, and a link to the patient's portal record
when the chart is enrolled. Never the reason for visit, the visit type, the patient's name or
anything else clinical: an email is read on shared screens and kept by mail providers.

Written in the language chosen when they were queued (the patient's portal language), and
rendered at send time, so each says how things are then, or is skipped (None) when it no longer
applies: a booked or moved email once the appointment is cancelled; a reminder once the
appointment is cancelled or moved (its time is no longer the reminder's), has passed, the
practice turned reminders off, the provider is no longer ticked, or the patient opted out.

Reminders carry the RFC 8058 one-click unsubscribe headers, and the same link in the body.
"""

from __future__ import annotations

import zoneinfo

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format, time_format
from django.utils.translation import gettext

from portico.notifications.rendering import Attachment, RenderedEmail, from_templates
from portico.portal.models import AccessState, PortalAccess
from portico.practices.models import Membership
from portico.scheduling import ics, tokens
from portico.scheduling.models import (
    Appointment,
    AppointmentReminder,
    AppointmentStatus,
    ReminderOptOut,
)

BOOKED = "scheduling.booked"
MOVED = "scheduling.moved"
CANCELLED = "scheduling.cancelled"
REMINDER = "scheduling.reminder"

TEMPLATE = "scheduling/email/appointment"
# What each email's renderer reads of an appointment, in the one query that loads it.
_APPOINTMENT_RELATED = ("practice", "provider", "location", "patient__portal_access")


def _url(name: str, **kwargs) -> str:
    return settings.PORTICO_BASE_URL + reverse(name, kwargs=kwargs)


def unsubscribe_url(patient) -> str:
    return _url("scheduling:unsubscribe", token=tokens.unsubscribe_token(patient))


def record_url(patient) -> str | None:
    """The patient's record in the portal, when the chart's access is active with its account
    (the rule of portal.selectors.enrolled_access, read from the row loaded with the chart)."""
    try:
        access = patient.portal_access
    except PortalAccess.DoesNotExist:
        return None
    if access.state != AccessState.ACTIVE or access.account_id is None:
        return None
    return _url("records:record", access_id=access.public_id)


def when_text(appointment: Appointment) -> str:
    """ "Monday, December 14, 2026 at 9:00 AM EST": the start in the practice's time zone, with
    the zone's abbreviation (a patient may read it while travelling)."""
    start = appointment.start_at.astimezone(zoneinfo.ZoneInfo(appointment.practice.time_zone))
    return gettext("%(weekday)s, %(date)s at %(time)s %(zone)s") % {
        "weekday": date_format(start, "l"),
        "date": date_format(start, "DATE_FORMAT"),
        "time": time_format(start, "TIME_FORMAT"),
        "zone": start.tzname() or "",
    }


def _texts(appointment: Appointment, kind: str, when: str) -> dict[str, str]:
    """The subject and the sentences of one kind of email, in the active language."""
    practice = appointment.practice
    values = {"practice": practice.name, "phone": practice.phone, "when": when}
    if kind == CANCELLED:
        call = (
            gettext("For a new appointment, please call %(practice)s at %(phone)s.")
            if practice.phone
            else gettext("For a new appointment, please contact %(practice)s.")
        )
    else:
        call = (
            gettext("To change or cancel it, please call %(practice)s at %(phone)s.")
            if practice.phone
            else gettext("To change or cancel it, please contact %(practice)s.")
        )
    texts = {
        BOOKED: (
            gettext("Your appointment on %(when)s is booked"),
            gettext("Your appointment with %(practice)s is booked."),
            gettext("Open the attached calendar file to add it to your calendar."),
        ),
        MOVED: (
            gettext("Your appointment was moved to %(when)s"),
            gettext("Your appointment with %(practice)s was moved. This is the new time:"),
            gettext("Open the attached calendar file to update it in your calendar."),
        ),
        CANCELLED: (
            gettext("Your appointment on %(when)s was cancelled"),
            gettext("Your appointment with %(practice)s was cancelled."),
            gettext("Open the attached calendar file to remove it from your calendar."),
        ),
        REMINDER: (
            gettext("Reminder: your appointment on %(when)s"),
            gettext("This is a reminder of your appointment with %(practice)s."),
            "",
        ),
    }
    subject, intro, calendar_note = texts[kind]
    return {
        "subject": subject % values,
        "intro": intro % values,
        "call": call % values,
        "calendar_note": calendar_note,
    }


def _render(
    appointment: Appointment, kind: str, *, attachments=(), headers=None, unsubscribe=None
) -> RenderedEmail:
    when = when_text(appointment)
    texts = _texts(appointment, kind, when)
    context = {
        "practice": appointment.practice,
        "when": when,
        "provider": appointment.provider.display_name if appointment.provider else "",
        "place_lines": appointment.place_lines,
        "url": record_url(appointment.patient),
        "unsubscribe_url": unsubscribe,
        **texts,
    }
    return from_templates(
        texts["subject"],
        TEMPLATE,
        context,
        sender=appointment.practice.name,
        attachments=attachments,
        headers=headers,
    )


# --- Booked, moved, cancelled -----------------------------------------------------------------


def _appointment(email) -> Appointment | None:
    return (
        Appointment.objects.select_related(*_APPOINTMENT_RELATED)
        .filter(public_id=email.subject_id)
        .first()
    )


def _render_status(email, kind: str) -> RenderedEmail | None:
    appointment = _appointment(email)
    if appointment is None:
        return None
    cancelled = appointment.status == AppointmentStatus.CANCELLED
    if cancelled != (kind == CANCELLED):
        # Booked or moved, and cancelled since: the cancellation's own email says so.
        return None
    calendar = Attachment(ics.FILENAME, ics.appointment_ics(appointment), ics.mimetype(appointment))
    return _render(appointment, kind, attachments=(calendar,))


def render_booked(email) -> RenderedEmail | None:
    return _render_status(email, BOOKED)


def render_moved(email) -> RenderedEmail | None:
    return _render_status(email, MOVED)


def render_cancelled(email) -> RenderedEmail | None:
    return _render_status(email, CANCELLED)


# --- Reminders --------------------------------------------------------------------------------


def _reminders(public_ids) -> dict:
    """Reminders by public id, each with its appointment, practice, provider, location, chart,
    the chart's portal access and opt-out (one query)."""
    related = [f"appointment__{name}" for name in _APPOINTMENT_RELATED]
    return AppointmentReminder.objects.select_related(
        *related, "appointment__patient__reminder_opt_out"
    ).in_bulk(list(public_ids), field_name="public_id")


def _senders(reminders) -> set[tuple[int, int]]:
    """(practice id, provider id) of the reminders' providers who are ticked to send them
    (one query)."""
    appointments = [r.appointment for r in reminders if r is not None]
    return set(
        Membership.objects.filter(
            practice_id__in={a.practice_id for a in appointments},
            user_id__in={a.provider_id for a in appointments if a.provider_id},
            sends_reminders=True,
        ).values_list("practice_id", "user_id")
    )


def prefetch_reminders(emails) -> None:
    """Load a run of reminder emails' reminders, appointments, charts and senders in two
    queries (the outbox drain renders many at a time)."""
    reminders = _reminders(email.subject_id for email in emails)
    senders = _senders(reminders.values())
    for email in emails:
        email.prefetched = (reminders.get(email.subject_id), senders)


def _opted_out(patient) -> bool:
    try:
        patient.reminder_opt_out  # noqa: B018 (loaded with the chart; None raises)
    except ReminderOptOut.DoesNotExist:
        return False
    return True


def reminder_applies(reminder: AppointmentReminder, senders: set[tuple[int, int]]) -> bool:
    """Whether the reminder still says something true and wanted: the appointment stands at
    the reminder's time and is ahead, the practice sends reminders, the provider is ticked and
    the patient did not opt out."""
    appointment = reminder.appointment
    return (
        appointment.status == AppointmentStatus.BOOKED
        and appointment.start_at == reminder.for_start_at
        and appointment.start_at > timezone.now()
        and appointment.practice.reminders_enabled
        and (appointment.practice_id, appointment.provider_id) in senders
        and not _opted_out(appointment.patient)
    )


def render_reminder(email) -> RenderedEmail | None:
    if hasattr(email, "prefetched"):
        reminder, senders = email.prefetched
    else:
        reminder = _reminders([email.subject_id]).get(email.subject_id)
        senders = _senders([reminder]) if reminder is not None else set()
    if reminder is None or not reminder_applies(reminder, senders):
        return None
    appointment = reminder.appointment
    link = unsubscribe_url(appointment.patient)
    return _render(
        appointment,
        REMINDER,
        unsubscribe=link,
        headers={
            "List-Unsubscribe": f"<{link}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
