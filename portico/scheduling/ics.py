"""The calendar file of an appointment (SPEC §8.7 "beyond"): one iCalendar (RFC 5545) event,
sent with the status emails and offered in the portal.

The event's UID is the appointment's and never changes, and its SEQUENCE is the appointment's
`sequence` (raised on every move and cancel), so a calendar that imported an earlier file
replaces its entry with a later one (a moved appointment moves) and removes it when the file
says METHOD:CANCEL (RFC 5546).

What it says is what the patient needs to be there: when, with whom, where, and the practice's
phone. Never the reason for visit, the visit type or anything else clinical, and never the
patient's name: calendars are synced to phones, shared with family and shown on lock screens.
Text is written in the active language.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext
from icalendar import Calendar, Event, vCalAddress, vText

from portico.scheduling.models import Appointment, AppointmentStatus

PRODID = "-//Portico//Appointment book//EN"
FILENAME = "appointment.ics"


def uid(appointment: Appointment) -> str:
    """The event's stable UID: the same for every file of this appointment."""
    return f"{appointment.public_id}@{settings.PORTICO_MAIL_DOMAIN}"


def method(appointment: Appointment) -> str:
    return "CANCEL" if appointment.status == AppointmentStatus.CANCELLED else "REQUEST"


def mimetype(appointment: Appointment) -> str:
    """The attachment's type, with the iTIP method as mail clients expect it."""
    return f"text/calendar; method={method(appointment)}"


def _status(appointment: Appointment) -> str:
    if appointment.status == AppointmentStatus.CANCELLED:
        return "CANCELLED"
    if appointment.status in (AppointmentStatus.PENDING, AppointmentStatus.PROPOSED):
        return "TENTATIVE"
    return "CONFIRMED"


def summary(appointment: Appointment) -> str:
    """ "Appointment with Dr. Paula Provider at Riverside Clinic"."""
    practice = appointment.practice.name
    if appointment.provider is not None:
        return gettext("Appointment with %(provider)s at %(practice)s") % {
            "provider": appointment.provider.display_name,
            "practice": practice,
        }
    return gettext("Appointment at %(practice)s") % {"practice": practice}


def _description(appointment: Appointment) -> str:
    practice = appointment.practice
    values = {"practice": practice.name, "phone": practice.phone}
    if appointment.status == AppointmentStatus.CANCELLED:
        if practice.phone:
            return (
                gettext(
                    "This appointment was cancelled. For a new one, call %(practice)s at %(phone)s."
                )
                % values
            )
        return gettext("This appointment was cancelled. For a new one, contact %(practice)s.") % (
            values
        )
    if practice.phone:
        return (
            gettext("To change or cancel this appointment, call %(practice)s at %(phone)s.")
            % values
        )
    return gettext("To change or cancel this appointment, contact %(practice)s.") % values


def appointment_ics(appointment: Appointment, *, now: dt.datetime | None = None) -> bytes:
    """The appointment as an iCalendar file: METHOD:REQUEST while it stands (booked or moved),
    METHOD:CANCEL with STATUS:CANCELLED once cancelled. Times are in UTC."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", method(appointment))
    event = Event()
    event.add("uid", uid(appointment))
    event.add("sequence", appointment.sequence)
    event.add("dtstamp", (now or timezone.now()).astimezone(dt.UTC))
    event.add("dtstart", appointment.start_at.astimezone(dt.UTC))
    event.add("dtend", appointment.end_at.astimezone(dt.UTC))
    event.add("summary", summary(appointment))
    place = appointment.place_lines
    if place:
        event.add("location", ", ".join(place))
    event.add("description", _description(appointment))
    organizer = vCalAddress(f"mailto:{settings.PORTICO_NOTIFICATIONS_FROM}")
    organizer.params["cn"] = vText(appointment.practice.name)
    event.add("organizer", organizer)
    event.add("status", _status(appointment))
    event.add("transp", "OPAQUE")
    calendar.add_component(event)
    return calendar.to_ical()
