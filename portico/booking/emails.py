"""The emails about appointment requests (SPEC §8.5): received, denied and another time
proposed. (A confirmed request gets the appointment book's "booked" email with its calendar
file.) They go to the address typed in the request, even with reminders off, in the language of
the page it was sent from, and say only what the appointment emails say: when, with whom,
where; never the reason for visit or the requester's name or date of birth.

Each is rendered at send time, and skipped (None) when it no longer applies: a "proposed" email
once the patient answered or the tentative appointment was cancelled.
"""

from __future__ import annotations

from django.utils.translation import gettext

from portico.booking.models import AppointmentRequest, RequestKind, RequestStatus
from portico.notifications.rendering import RenderedEmail, from_templates
from portico.scheduling.emails import TEMPLATE, record_url, when_text
from portico.scheduling.models import AppointmentStatus


def _request(email) -> AppointmentRequest | None:
    return (
        AppointmentRequest.objects.select_related(
            "practice",
            "provider",
            "original__practice",
            "original__location",
            "appointment__practice",
            "appointment__location",
            "patient__portal_access",
        )
        .filter(public_id=email.subject_id)
        .first()
    )


def _call(practice) -> str:
    if practice.phone:
        return gettext("Questions? Please call %(practice)s at %(phone)s.") % {
            "practice": practice.name,
            "phone": practice.phone,
        }
    return gettext("Questions? Please contact %(practice)s.") % {"practice": practice.name}


def _portal_url(request: AppointmentRequest) -> str | None:
    """The patient's record in the portal, for a request about an enrolled chart (one sent
    from the portal, or one the practice matched to such a chart)."""
    return record_url(request.patient) if request.patient is not None else None


def _render(request: AppointmentRequest, subject: str, intro: str, *, timed, message="", url=None):
    practice = request.practice
    return from_templates(
        subject,
        TEMPLATE,
        {
            # The HTML email's <title>.
            "subject": subject,
            "practice": practice,
            "when": when_text(timed) if timed is not None else "",
            "provider": request.provider.display_name if request.provider else "",
            "place_lines": getattr(timed, "place_lines", None) or practice.address_lines,
            "url": url,
            "unsubscribe_url": None,
            "intro": intro,
            "message": message,
            "call": _call(practice),
            "calendar_note": "",
        },
        sender=practice.name,
    )


def render_received(email) -> RenderedEmail | None:
    request = _request(email)
    if request is None:
        return None
    values = {"practice": request.practice.name}
    if request.kind == RequestKind.CANCEL:
        subject = gettext("Your cancellation request was received")
        intro = gettext(
            "%(practice)s received your request to cancel this appointment. You will get an "
            "email when the practice has answered."
        )
        timed = request.original
    elif request.kind == RequestKind.RESCHEDULE:
        subject = gettext("Your request to reschedule was received")
        intro = gettext(
            "%(practice)s received your request to move your appointment to this time. You "
            "are responsible for your original appointment until the reschedule request is "
            "confirmed."
        )
        timed = request
    else:
        subject = gettext("Your appointment request was received")
        intro = gettext(
            "%(practice)s received your appointment request. It is not booked yet: you will "
            "get an email when the practice has confirmed it."
        )
        timed = request
    return _render(request, subject, intro % values, timed=timed, url=_portal_url(request))


def render_denied(email) -> RenderedEmail | None:
    request = _request(email)
    if request is None or request.status != RequestStatus.DENIED:
        return None
    values = {"practice": request.practice.name}
    if request.kind == RequestKind.NEW:
        intro = gettext("%(practice)s could not accept your appointment request for this time.")
    elif request.kind == RequestKind.RESCHEDULE:
        intro = gettext(
            "%(practice)s could not move your appointment to this time. Your original "
            "appointment stays as it was."
        )
    else:
        intro = gettext(
            "%(practice)s did not cancel your appointment. It stays as it was; please call the "
            "practice if you cannot come."
        )
    timed = request.original if request.kind == RequestKind.CANCEL else request
    return _render(
        request,
        gettext("About your appointment request"),
        intro % values,
        timed=timed,
        message=request.decision_message,
        url=_portal_url(request),
    )


def render_proposed(email) -> RenderedEmail | None:
    request = _request(email)
    appointment = request.appointment if request is not None else None
    if (
        request is None
        or appointment is None
        or request.status != RequestStatus.PROPOSED
        or appointment.status != AppointmentStatus.PROPOSED
    ):
        return None
    url = _portal_url(request)
    values = {"practice": request.practice.name}
    intro = (
        gettext(
            "%(practice)s proposes another time for your appointment. Sign in to your patient "
            "portal to accept it or decline it."
        )
        if url
        else gettext(
            "%(practice)s proposes another time for your appointment. Please call the "
            "practice to accept it or decline it."
        )
    )
    return _render(
        request,
        gettext("Another time is proposed for your appointment"),
        intro % values,
        timed=appointment,
        message=request.decision_message,
        url=url,
    )
