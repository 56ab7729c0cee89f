"""The emailed check-in link for a patient without portal access (SPEC §10.2, the enrollment
link's rules): the date of birth opens the form in this browser; wrong answers count and lock
the link after PORTICO_INVITATION_MAX_CODE_ATTEMPTS, and one address may answer only so often;
the link lives until a day after the appointment starts (sixty days at most) and is gone once
the form is submitted or withdrawn, or a newer link replaces it; the form's pages work only in a
browser that answered, while the link lives; the page asking the date of birth shows nothing of
the patient's health."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse

from portico.audit.models import AuditEvent
from portico.intake import services
from portico.intake.models import FormStatus
from portico.scheduling.services import appointment_book
from tests.scheduling.conftest import at

pytestmark = pytest.mark.django_db

DOB = "1980-04-21"  # tests.factories.make_patient's


def link_url(form) -> str:
    return reverse("intake:link", args=[services.link_of(form)])


def page_url(form, page: str = "fill") -> str:
    name = "intake:link_form" if page == "fill" else f"intake:link_form_{page}"
    return reverse(name, args=[form.public_id])


@pytest.fixture
def verified(client, form, now):
    response = client.post(link_url(form), {"date_of_birth": DOB})
    assert response.status_code == 302
    assert response["Location"] == page_url(form)
    return client


def test_the_link_asks_the_date_of_birth_and_shows_no_health_information(client, form, now):
    response = client.get(link_url(form))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Check in for your appointment" in page
    assert "Date of birth" in page
    assert "Riverside Clinic asks you to fill in a form before your appointment." in page
    for secret in (form.patient.legal_first_name, form.patient.legal_last_name, "New patient"):
        assert secret not in page


def test_a_wrong_date_of_birth_counts_and_the_link_locks_after_the_limit(client, form, now):
    limit = settings.PORTICO_INVITATION_MAX_CODE_ATTEMPTS
    for attempt in range(1, limit):
        response = client.post(link_url(form), {"date_of_birth": "1990-01-01"})
        assert response.status_code == 200
        assert f"Tries left: {limit - attempt}." in response.content.decode()

    response = client.post(link_url(form), {"date_of_birth": "1990-01-01"})
    assert response.status_code == 403
    assert str(services.LINK_LOCKED_MESSAGE) in response.content.decode()
    # Locked: even the right date of birth no longer opens it.
    response = client.post(link_url(form), {"date_of_birth": DOB})
    assert response.status_code == 403
    assert client.get(page_url(form)).status_code == 403


def test_the_right_date_of_birth_opens_the_form_and_answers_are_saved_by_the_link(verified, form):
    page = verified.get(page_url(form))
    assert page.status_code == 200
    assert "Section 1 of 5" in page.content.decode()

    response = verified.post(
        page_url(form), {"section": "1", "action": "later", "q-city": "Springfield"}
    )
    assert response["Location"] == page_url(form) + "?section=1"
    form.refresh_from_db()
    assert form.answers == {"city": "Springfield"}
    saved = AuditEvent.objects.get(action="intake.form_save", patient=form.patient)
    assert saved.actor is None
    assert saved.actor_label == "check-in link"
    assert AuditEvent.objects.filter(action="intake.form_view", patient=form.patient).exists()
    assert "Springfield" in verified.get(page_url(form)).content.decode()


def test_the_forms_pages_refuse_a_browser_that_did_not_answer(client, form, now):
    for response in (
        client.get(page_url(form)),
        client.get(page_url(form, "review")),
        client.post(page_url(form), {"section": "1", "q-city": "Nowhere"}),
        client.post(page_url(form, "submit")),
    ):
        assert response.status_code == 403
        assert "open the check-in link in your email again" in response.content.decode()
    form.refresh_from_db()
    assert form.answers == {}
    assert form.status == FormStatus.SENT


def _fill_required(client, form, chart_lists=None):
    answers = {
        "address_line1": "1 Main St",
        "city": "Springfield",
        "state": "IL",
        "postal_code": "62701",
        "has_insurance": "no",
        "smoking": "never",
        "allergies": {"none": True},
        "medications": {"added": [{"name": "Vitamin D", "instructions": "Daily"}]},
        "consent_to_treat": {"agreed": True, "signature": "Robin Tester"},
    }
    services.form_save(None, form=form, answers=answers)


def test_submitting_through_the_link_confirms_and_the_link_is_gone(verified, form):
    _fill_required(verified, form)

    response = verified.post(page_url(form, "submit"), follow=True)

    assert response.redirect_chain[-1][0] == reverse("intake:link_submitted")
    assert "Your form is submitted." in response.content.decode()
    # Reloading the thanks (or choosing another language on it) posts nothing again.
    assert (
        "Your form is submitted." in verified.get(reverse("intake:link_submitted")).content.decode()
    )
    form.refresh_from_db()
    assert form.status == FormStatus.SUBMITTED
    assert form.submitted_by is None
    gone = verified.get(link_url_of_token(form))
    assert gone.status_code == 410
    assert verified.get(page_url(form)).status_code == 403


def test_the_thanks_page_shows_nothing_in_another_browser(client):
    response = client.get(reverse("intake:link_submitted"))
    assert response.status_code == 410
    assert "no longer works" in response.content.decode()


def link_url_of_token(form) -> str:
    # The token the email carried (the form's nonce is kept; only the hash was cleared).
    return reverse("intake:link", args=[services.link_of(form)])


def test_a_withdrawn_form_ends_the_link_and_the_open_pages(verified, form, staff):
    token_url = link_url(form)

    services.form_cancel(staff, form=form)

    response = verified.get(token_url)
    assert response.status_code == 410
    assert str(services.LINK_GONE_MESSAGE) in response.content.decode()
    assert verified.get(page_url(form)).status_code == 410
    assert verified.post(page_url(form), {"section": "1", "q-city": "X"}).status_code == 410


def test_a_resent_form_kills_the_old_link_and_its_open_pages(verified, form, staff):
    old = link_url(form)

    services.form_resend(staff, form=form)
    form.refresh_from_db()

    assert verified.get(old).status_code == 410
    assert verified.get(page_url(form)).status_code == 410
    assert verified.get(link_url(form)).status_code == 200  # the new link works


def test_an_unknown_token_is_gone(client, now, db):
    response = client.get(reverse("intake:link", args=["not-a-real-token"]))

    assert response.status_code == 410
    assert "This check-in link no longer works" in response.content.decode()


def test_the_link_pages_hold_only_opaque_ids(verified, form):
    location = verified.post(page_url(form), {"section": "1", "action": "continue"})["Location"]

    assert location == page_url(form) + "?section=2"
    assert str(form.public_id) in location
    assert form.patient.legal_last_name not in location


def test_the_link_stops_working_a_day_after_the_appointment_starts(verified, form):
    # The appointment is on Wednesday 9 December at 10:00 in New York.
    with time_machine.travel(at(dt.date(2026, 12, 10), 9, 59), tick=False):
        assert verified.get(link_url(form)).status_code == 200
        # (The browser's session timed out overnight: the date of birth again.)
        assert verified.post(link_url(form), {"date_of_birth": DOB}).status_code == 302
        assert verified.get(page_url(form)).status_code == 200
    with time_machine.travel(at(dt.date(2026, 12, 10), 10, 1), tick=False):
        response = verified.get(link_url(form))
        assert response.status_code == 410
        assert "This check-in link no longer works" in response.content.decode()
        assert verified.get(page_url(form)).status_code == 410
        assert verified.post(link_url(form), {"date_of_birth": DOB}).status_code == 410


def test_a_link_sent_long_before_the_visit_works_sixty_days_at_most(
    client, staff, patient, provider, hours, new_patient_visit, new_patient_template, now
):
    appointment = appointment_book(
        staff,
        patient=patient,
        provider=provider,
        appointment_type=new_patient_visit,
        start_at=at(dt.date(2027, 3, 17), 10),
    )
    form = services.form_send(staff, appointment=appointment, template=new_patient_template)

    with time_machine.travel(now + dt.timedelta(days=59, hours=23), tick=False):
        assert client.get(link_url(form)).status_code == 200
    with time_machine.travel(now + dt.timedelta(days=60, minutes=1), tick=False):
        assert client.get(link_url(form)).status_code == 410
    # Sending it again gives a new link with sixty days of its own.
    with time_machine.travel(now + dt.timedelta(days=61), tick=False):
        services.form_resend(staff, form=form)
        form.refresh_from_db()
        assert client.get(link_url(form)).status_code == 200


def test_too_many_answers_from_one_address_are_refused_without_counting(
    client, form, now, settings
):
    settings.PORTICO_RATE_LIMITS = {**settings.PORTICO_RATE_LIMITS, "registration": (2, 3600)}
    for _attempt in range(2):
        assert client.post(link_url(form), {"date_of_birth": "1990-01-01"}).status_code == 200

    response = client.post(link_url(form), {"date_of_birth": DOB})

    assert response.status_code == 429
    assert "Too many tries from your network." in response.content.decode()
    form.refresh_from_db()
    assert form.link_failed_attempts == 2  # the refused answer was not judged
    assert client.get(page_url(form)).status_code == 403  # and opened nothing
