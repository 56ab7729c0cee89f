"""The booking page (SPEC §8.4–8.5): a visitor picks a visit type and one of the open times of
the live schedule, gives their details and sends a request. It is stored and emailed to the
address typed; a bot filling the hidden field gets the same thanks and stores nothing; an
address sending too many gets a 429; bad input and a time taken meanwhile say so and store
nothing. No session or cookie is needed."""

import datetime as dt
import re

import pytest
from django.test import Client
from django.urls import reverse

from portico.booking import public, services
from portico.booking.models import AppointmentRequest, RequestSource, RequestStatus
from portico.notifications.models import OutboundEmail
from portico.scheduling.services import appointment_book, visit_type_save
from tests.booking.conftest import at
from tests.pages.html import field_errors, parse

pytestmark = pytest.mark.django_db

MONDAY = dt.date(2026, 12, 7)
NINE = "2026-12-07T14:00Z"  # Monday 9:00 AM in New York

DETAILS = {
    "patient_kind": "new",
    "first_name": "Rosa",
    "last_name": "Rivera",
    "date_of_birth": "1980-04-02",
    "email": "rosa@example.org",
    "phone": "(217) 555-0199",
    "reason": "Knee pain",
}


def book_url(profile) -> str:
    found = public.profile_for_page(profile.number)
    return reverse("booking:book", kwargs={"slug": public.canonical_slug(found)})


def ask(client, profile, follow_up, start=NINE, **changes):
    """Send the form; HTTP_* and REMOTE_ADDR go as the request's headers and address."""
    extra = {
        k: changes.pop(k) for k in list(changes) if k.startswith("HTTP_") or k == "REMOTE_ADDR"
    }
    data = {"visit_type": str(follow_up.public_id), "start_at": start, **DETAILS, **changes}
    return client.post(book_url(profile), data, **extra)


# --- Choosing a time -----------------------------------------------------------------------------


def test_the_booking_page_offers_a_week_of_open_times_each_leading_to_the_form(
    client, profile, follow_up
):
    response = client.get(book_url(profile))
    assert response.status_code == 200
    page = parse(response)
    days = [h.text for h in page.find_all("h3", class_="open-day-heading")]
    # Monday to Friday of this week; the weekend has no hours.
    assert days == [
        "Monday, December 7",
        "Tuesday, December 8",
        "Wednesday, December 9",
        "Thursday, December 10",
        "Friday, December 11",
    ]
    first = page.find_all("ul", class_="open-times")[0].find("a")
    assert first["href"] == f"{book_url(profile)}?type={follow_up.public_id}&at=2026-12-07T14%3A00Z"
    later = page.one("a", text="Later times")
    assert later["href"] == f"{book_url(profile)}?type={follow_up.public_id}&start=2026-12-14"
    assert page.find("a", text="Earlier times") is None


def test_several_visit_types_are_chosen_first(client, profile, follow_up, admin, practice):
    other = visit_type_save(admin, practice=practice, name="Annual physical", duration_minutes=40)
    services.profile_save(
        admin,
        profile=profile,
        specialties=["family-medicine"],
        online_visit_types=[follow_up, other],
        npi=profile.npi,
    )
    page = parse(client.get(book_url(profile)))
    assert [a.text for a in page.one("ul", class_="visit-type-choices").find_all("a")] == [
        "Annual physical",
        "Follow-up",
    ]
    assert page.find("ul", class_="open-times") is None
    page = parse(client.get(book_url(profile), {"type": other.public_id}))
    assert page.one("h2", id="time-heading").text == "Open times for Annual physical"
    assert "T14%3A40Z" in page.find_all("ul", class_="open-times")[0].find_all("a")[1]["href"]


def test_choosing_a_time_opens_the_form_with_that_time(client, profile, follow_up):
    response = client.get(book_url(profile), {"type": follow_up.public_id, "at": NINE})
    assert response.status_code == 200
    page = parse(response)
    form = page.one("form", class_="booking-form")
    assert form["action"] == book_url(profile)
    assert page.one("input", name="start_at")["value"] == NINE
    assert page.one("input", name="visit_type")["value"] == str(follow_up.public_id)
    assert "Monday, December 7, 9:00 AM" in page.one("div", class_="chosen-time").text
    for name in ("first_name", "last_name", "date_of_birth", "email", "phone", "reason"):
        assert page.one(name=name) is not None
    assert [r["value"] for r in page.find_all("input", name="patient_kind")] == ["new", "existing"]


def test_a_link_to_a_time_no_longer_open_says_so_and_shows_the_open_times(
    client, profile, follow_up, admin, patient
):
    appointment_book(
        admin,
        patient=patient,
        provider=profile.provider,
        appointment_type=follow_up,
        start_at=at(MONDAY, 9),
    )
    response = client.get(book_url(profile), {"type": follow_up.public_id, "at": NINE})
    page = parse(response)
    assert page.one(role="alert").text == (
        "That time is no longer open. Choose one of the open times."
    )
    assert page.find("form", class_="booking-form") is None
    assert "9:20 AM" in page.find_all("ul", class_="open-times")[0].text


def test_a_provider_not_taking_new_patients_asks_existing_patients_only(
    client, profile, follow_up, admin
):
    services.profile_save(
        admin,
        profile=profile,
        specialties=["family-medicine"],
        online_visit_types=[follow_up],
        npi=profile.npi,
        accepts_new_patients=False,
    )
    page = parse(client.get(book_url(profile), {"type": follow_up.public_id, "at": NINE}))
    assert [r["value"] for r in page.find_all("input", name="patient_kind")] == ["existing"]
    assert ask(client, profile, follow_up).status_code == 400
    assert not AppointmentRequest.objects.exists()


# --- Sending the request -------------------------------------------------------------------------


def test_a_request_is_stored_emailed_and_answered_with_request_sent(client, profile, follow_up):
    response = ask(client, profile, follow_up)
    assert response.status_code == 303
    assert response["Location"] == f"{book_url(profile)}?sent=1"  # nothing about the visitor
    request = AppointmentRequest.objects.get()
    assert request.source == RequestSource.PUBLIC
    assert request.status == RequestStatus.PENDING
    assert (request.first_name, request.last_name, request.email) == (
        "Rosa",
        "Rivera",
        "rosa@example.org",
    )
    assert request.start_at == at(MONDAY, 9)
    assert request.visit_type == follow_up
    assert request.reason == "Knee pain"
    assert request.patient is None
    email = OutboundEmail.objects.get(kind="booking.received")
    assert email.to_address == "rosa@example.org"

    page = parse(client.get(response["Location"]))
    assert page.one("h1").text == "Request sent"
    assert "the practice will confirm it by email" in page.text
    assert "Rosa" not in page.text


def test_the_request_needs_no_session_or_csrf_cookie(profile, follow_up):
    """The form is sent from pages inside other sites' frames, where no cookie comes along."""
    client = Client(enforce_csrf_checks=True)
    assert ask(client, profile, follow_up).status_code == 303
    assert AppointmentRequest.objects.count() == 1
    assert not client.cookies.get("sessionid")


def test_a_form_sent_from_another_site_is_refused(client, profile, follow_up):
    response = client.post(
        book_url(profile),
        {"visit_type": str(follow_up.public_id), "start_at": NINE, **DETAILS},
        HTTP_ORIGIN="https://evil.example",
    )
    assert response.status_code == 403
    assert not AppointmentRequest.objects.exists()
    own = ask(client, profile, follow_up, HTTP_ORIGIN="http://testserver")
    assert own.status_code == 303


def test_the_hidden_field_filled_in_gets_the_thanks_and_stores_nothing(client, profile, follow_up):
    response = ask(client, profile, follow_up, website="http://spam.example")
    assert response.status_code == 303
    assert response["Location"] == f"{book_url(profile)}?sent=1"
    assert not AppointmentRequest.objects.exists()
    assert not OutboundEmail.objects.exists()


def test_the_hidden_field_is_hidden_from_people_and_assistive_technology(
    client, profile, follow_up
):
    page = parse(client.get(book_url(profile), {"type": follow_up.public_id, "at": NINE}))
    field = page.one("input", name="website")
    assert field["tabindex"] == "-1"
    assert field["autocomplete"] == "off"
    box = field.parent
    assert box["aria-hidden"] == "true"
    assert "visually-hidden" in box["class"]


def test_too_many_requests_from_one_address_get_a_429(client, profile, follow_up, settings):
    settings.PORTICO_RATE_LIMITS = {**settings.PORTICO_RATE_LIMITS, "booking_request": (2, 3600)}
    assert ask(client, profile, follow_up).status_code == 303
    assert ask(client, profile, follow_up, start="2026-12-07T14:20Z").status_code == 303
    response = ask(client, profile, follow_up, start="2026-12-07T14:40Z")
    assert response.status_code == 429
    page = parse(response)
    assert page.one("h1").text == "Too many requests"
    assert re.search(
        r"Too many requests were sent from your network\. Please wait \d+ minutes", page.text
    )
    assert AppointmentRequest.objects.count() == 2
    # Another address is not held back.
    other = ask(client, profile, follow_up, start="2026-12-07T15:00Z", REMOTE_ADDR="10.9.9.9")
    assert other.status_code == 303


@pytest.mark.parametrize(
    "changes, field, message",
    [
        ({"first_name": ""}, "first_name", "This field is required."),
        ({"email": "not an address"}, "email", "Enter a valid email address."),
        ({"date_of_birth": "2031-01-01"}, "date_of_birth", "Enter a real date of birth."),
        ({"date_of_birth": "yesterday"}, "date_of_birth", "Enter a valid date."),
        ({"reason": "x" * 301}, "reason", "Ensure this value has at most 300 characters"),
        ({"patient_kind": "maybe"}, "patient_kind", "Select a valid choice."),
        ({"first_name": "Ro\x00sa"}, "first_name", "Null characters are not allowed."),
    ],
)
def test_bad_input_shows_the_form_again_with_the_message_and_stores_nothing(
    client, profile, follow_up, changes, field, message
):
    response = ask(client, profile, follow_up, **changes)
    assert response.status_code == 400
    page = parse(response)
    assert any(message in text for text in field_errors(page, f"id_{field}")), field_errors(
        page, f"id_{field}"
    )
    assert page.one("input", name="start_at")["value"] == NINE
    assert page.one("input", name="last_name")["value"] == "Rivera"
    assert not AppointmentRequest.objects.exists()
    assert not OutboundEmail.objects.exists()


@pytest.mark.parametrize(
    "data",
    [
        {"visit_type": "not-a-uuid", "start_at": NINE},
        {"start_at": "next tuesday"},
        {"start_at": ""},
    ],
)
def test_a_missing_or_unknown_visit_type_or_time_stores_nothing(
    client, profile, follow_up, admin, practice, data
):
    other = visit_type_save(admin, practice=practice, name="Annual physical", duration_minutes=40)
    services.profile_save(
        admin,
        profile=profile,
        specialties=["family-medicine"],
        online_visit_types=[follow_up, other],
        npi=profile.npi,
    )
    response = client.post(
        book_url(profile), {"visit_type": str(follow_up.public_id), **data, **DETAILS}
    )
    assert response.status_code == 400
    assert parse(response).find(role="alert") is not None
    assert not AppointmentRequest.objects.exists()


def test_a_time_taken_meanwhile_says_so_and_offers_the_open_times_keeping_the_details(
    client, profile, follow_up, admin, patient
):
    page = parse(client.get(book_url(profile), {"type": follow_up.public_id, "at": NINE}))
    assert page.one("input", name="start_at")["value"] == NINE
    # Staff book 9:00 while the visitor types.
    appointment_book(
        admin,
        patient=patient,
        provider=profile.provider,
        appointment_type=follow_up,
        start_at=at(MONDAY, 9),
    )
    response = ask(client, profile, follow_up)
    assert response.status_code == 409
    page = parse(response)
    assert page.one("div", role="alert").text == (
        "That time is no longer open. Choose one of the open times."
    )
    choices = [r["value"] for r in page.find_all("input", type="radio", name="start_at")]
    assert NINE not in choices
    assert choices[0] == "2026-12-07T14:20Z"
    assert page.one("input", name="first_name")["value"] == "Rosa"
    assert page.one("textarea", name="reason").text == "Knee pain"
    assert not AppointmentRequest.objects.exists()
    # Choosing one of them sends it.
    assert ask(client, profile, follow_up, start=choices[0]).status_code == 303
    assert AppointmentRequest.objects.get().start_at == at(MONDAY, 9, 20)


def test_a_time_outside_the_hours_is_not_offered_and_not_taken(client, profile, follow_up):
    response = ask(client, profile, follow_up, start="2026-12-07T17:30Z")  # 12:30, lunch
    assert response.status_code == 409
    assert not AppointmentRequest.objects.exists()


def test_an_old_address_of_the_booking_page_redirects(client, profile):
    response = client.get(f"/doctor/old-name-{profile.number}/book?type=x")
    assert response.status_code == 301
    assert response["Location"] == f"{book_url(profile)}?type=x"


def test_the_booking_page_speaks_spanish_when_asked(client, profile, follow_up):
    response = client.get(book_url(profile), HTTP_ACCEPT_LANGUAGE="es")
    page = parse(response)
    assert page.one("html")["lang"] == "es"
    assert ask(client, profile, follow_up, HTTP_ACCEPT_LANGUAGE="es").status_code == 303
    assert AppointmentRequest.objects.get().language == "es"


def test_the_booking_pages_in_spanish_have_no_english_left(client, profile, follow_up, settings):
    """Everything but what the practice typed (the provider's name, the visit type's, the
    biography) is in Spanish: the search, the profile, each step of the booking page."""
    from tests.core.test_spanish_catalogue import english_words

    spanish = {"HTTP_ACCEPT_LANGUAGE": "es"}
    found = public.profile_for_page(profile.number)
    responses = [
        client.get(reverse("booking:search"), **spanish),
        client.get(reverse("booking:search"), {"specialty": "x"}, **spanish),
        client.get(public.profile_path(found), **spanish),
        client.get(book_url(profile), **spanish),
        client.get(book_url(profile), {"type": follow_up.public_id, "at": NINE}, **spanish),
        ask(client, profile, follow_up, email="x", **spanish),
        ask(client, profile, follow_up, start="2026-12-07T17:30Z", **spanish),
        client.get(f"{book_url(profile)}?sent=1", **spanish),
    ]
    settings.PORTICO_RATE_LIMITS = {**settings.PORTICO_RATE_LIMITS, "booking_request": (0, 60)}
    responses.append(ask(client, profile, follow_up, **spanish))
    assert [r.status_code for r in responses] == [200, 400, 200, 200, 200, 400, 409, 200, 429]
    typed_by_the_practice = frozenset({"provider", "doctor", "follow", "up", "family"})
    for response in responses:
        assert english_words(response.content.decode(), typed_by_the_practice) == []
