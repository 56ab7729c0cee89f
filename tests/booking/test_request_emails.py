"""The emails about appointment requests (SPEC §8.5): received (a new appointment, a reschedule,
a cancellation), denied and another time proposed, each rendered the way the outbox sends it
(`renderer_for(kind)` in the email's language). They go to the address typed in the request
and say when, with whom and where, never the requester's name, date of birth or reason for
visit; a "proposed" email that no longer applies is skipped."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import translation

from portico.booking import services
from portico.notifications.models import OutboundEmail
from portico.notifications.rendering import renderer_for
from portico.scheduling.services import appointment_book, appointment_cancel
from tests.booking.conftest import at
from tests.scheduling.mail import give_address

pytestmark = pytest.mark.django_db

MONDAY = dt.date(2026, 12, 7)
TUESDAY = MONDAY + dt.timedelta(days=1)
FIRST, LAST = "Philippa", "Quenneville"
DOB = dt.date(1961, 11, 23)
REASON = "Chest pain since Tuesday, rule out angina"
# What no email about a request may say (the date of birth in the ways it could be written).
SECRETS = (FIRST, LAST, REASON, "angina", "11/23/1961", "23/11/1961", "1961-11-23", "November")


def ask(profile, visit_type, start, **more):
    values = {
        "profile": profile,
        "visit_type": visit_type,
        "start_at": start,
        "patient_kind": "new",
        "first_name": FIRST,
        "last_name": LAST,
        "date_of_birth": DOB,
        "email": "philippa@example.org",
        "phone": "+12025550199",
        "reason": REASON,
    }
    values.update(more)
    return services.request_submit(**values)


def rendered(kind: str, request=None):
    """The email of `kind` (about `request`) as the outbox renders it when it sends it."""
    emails = OutboundEmail.objects.filter(kind=kind)
    if request is not None:
        emails = emails.filter(subject_id=request.public_id)
    email = emails.get()
    with translation.override(email.language):
        return email, renderer_for(kind)(email)


def says_nothing_private(message) -> None:
    for part in (message.subject, message.text, message.html):
        for secret in SECRETS:
            assert secret not in part, (secret, part)


@pytest.fixture
def requested(now, practice, profile, follow_up):
    give_address(practice)
    return ask(profile, follow_up, at(MONDAY, 9))


def test_the_received_email_goes_to_the_address_typed_and_says_when_and_with_whom(requested):
    email, message = rendered("booking.received", requested)

    assert email.to_address == "philippa@example.org"
    assert message.subject == "Your appointment request was received"
    assert "Riverside Clinic received your appointment request. It is not booked yet" in (
        message.text
    )
    assert "When: Monday, December 7, 2026 at 9:00 AM EST" in message.text
    assert "With: Dr. Paula Provider" in message.text
    assert "12 Elm Street" in message.text
    assert "Questions? Please call Riverside Clinic at (217) 555-0100." in message.text
    assert f"<title>{message.subject}</title>" in message.html
    assert "Riverside Clinic" in message.from_email
    says_nothing_private(message)


def test_the_denied_email_carries_the_practices_message_but_not_its_reason(requested, admin):
    services.request_deny(
        admin,
        request=requested,
        reason="Not taking new patients with this condition",
        message="Please call us to find another provider.",
    )

    email, message = rendered("booking.denied", requested)

    assert email.to_address == "philippa@example.org"
    assert message.subject == "About your appointment request"
    assert "could not accept your appointment request for this time" in message.text
    assert "Message from the practice: Please call us to find another provider." in message.text
    assert "Not taking new patients" not in message.text + message.html
    assert f"<title>{message.subject}</title>" in message.html
    says_nothing_private(message)


def test_the_proposed_email_says_the_new_time_and_how_to_answer(requested, admin):
    services.request_propose(
        admin,
        request=requested,
        start_at=at(TUESDAY, 14),
        reason="Monday is full",
        message="Would Tuesday afternoon suit you?",
    )

    email, message = rendered("booking.proposed", requested)

    assert email.to_address == "philippa@example.org"
    assert message.subject == "Another time is proposed for your appointment"
    assert "When: Tuesday, December 8, 2026 at 2:00 PM EST" in message.text
    # A new chart has no portal yet: the patient answers by phone.
    assert "Please call the practice to accept it or decline it." in message.text
    assert "Would Tuesday afternoon suit you?" in message.text
    assert "Monday is full" not in message.text + message.html
    says_nothing_private(message)


def test_a_proposed_email_is_skipped_once_the_tentative_appointment_is_gone(requested, admin):
    proposed = services.request_propose(
        admin, request=requested, start_at=at(TUESDAY, 14), reason="Monday is full"
    )
    appointment_cancel(admin, appointment=proposed, reason="The patient called: not needed")

    _email, message = rendered("booking.proposed", requested)

    assert message is None


def test_a_denied_email_is_skipped_for_a_request_that_was_not_denied(requested, admin):
    services.request_deny(admin, request=requested, reason="Duplicate")
    # (Something changed the request since: the email would no longer be true.)
    type(requested).objects.filter(pk=requested.pk).update(status="approved")

    _email, message = rendered("booking.denied", requested)

    assert message is None


@pytest.fixture
def confirmed(now, practice, admin, patient, provider, follow_up, hours):
    give_address(practice)
    patient.legal_first_name, patient.legal_last_name, patient.date_of_birth = FIRST, LAST, DOB
    patient.save()
    return appointment_book(
        admin,
        patient=patient,
        provider=provider,
        appointment_type=follow_up,
        start_at=at(TUESDAY, 10),
        reason=REASON,
    )


def test_a_reschedule_request_received_says_the_time_asked_and_links_to_the_portal(
    confirmed, enrolled, access
):
    request = services.reschedule_request(
        enrolled, access=access, appointment=confirmed, start_at=at(TUESDAY, 15), note="Work"
    )

    email, message = rendered("booking.received", request)

    assert email.to_address == enrolled.email
    assert message.subject == "Your request to reschedule was received"
    assert (
        "You are responsible for your original appointment until the reschedule request is "
        "confirmed." in message.text
    )
    assert "When: Tuesday, December 8, 2026 at 3:00 PM EST" in message.text
    assert f"/portal/records/{access.public_id}/" in message.text
    says_nothing_private(message)


def test_a_cancellation_request_received_says_the_appointments_time(
    confirmed, enrolled, access, practice
):
    practice.cancellation_approval = "all"
    practice.save()
    request = services.patient_cancel(
        enrolled, access=access, appointment=confirmed, reason="I feel better"
    )

    _email, message = rendered("booking.received", request)

    assert message.subject == "Your cancellation request was received"
    assert "When: Tuesday, December 8, 2026 at 10:00 AM EST" in message.text
    assert "I feel better" not in message.text + message.html
    says_nothing_private(message)


def test_a_denied_cancellation_says_the_appointment_stays(confirmed, enrolled, access, practice):
    practice.cancellation_approval = "all"
    practice.save()
    request = services.patient_cancel(
        enrolled, access=access, appointment=confirmed, reason="I feel better"
    )
    services.request_deny(practice.memberships.first().user, request=request, reason="Too late")

    _email, message = rendered("booking.denied", request)

    assert "did not cancel your appointment. It stays as it was" in message.text
    assert "When: Tuesday, December 8, 2026 at 10:00 AM EST" in message.text
    says_nothing_private(message)


def test_each_request_email_is_written_in_the_requesters_language(
    now, practice, profile, follow_up
):
    request = ask(profile, follow_up, at(MONDAY, 9), language="es")

    email, message = rendered("booking.received", request)

    assert email.language == "es"
    assert '<html lang="es">' in message.html
