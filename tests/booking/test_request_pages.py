"""Schedule > Appointment Requests (SPEC §8.5): the staff's list of requests and one request with
its provider's day beside it; Approve (matching a chart or adding one), Deny (a reason),
Reschedule (propose another time: Tentative until the patient accepts, or staff confirm it).
What a user sees, what is stored, what is audited; bad input gets its message and changes
nothing; another practice's requests are 404 and a GET on an action is 405."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from portico.audit.models import AuditEvent
from portico.booking import services
from portico.booking.models import (
    AppointmentRequest,
    PatientKind,
    RequestKind,
    RequestSource,
    RequestStatus,
)
from portico.charts.models import Patient
from portico.notifications.models import OutboundEmail
from portico.practices.models import Role
from portico.scheduling.models import Appointment, AppointmentStatus
from portico.scheduling.services import appointment_book, appointment_cancel
from tests import factories
from tests.booking.conftest import at
from tests.factories import sign_in
from tests.pages.html import field_errors, form_errors, messages, parse

pytestmark = pytest.mark.django_db

MONDAY = dt.date(2026, 12, 7)
TUESDAY = MONDAY + dt.timedelta(days=1)
REQUESTS = reverse("booking:requests")
DOB = dt.date(1980, 4, 2)


def ask(profile, visit_type, start, **more) -> AppointmentRequest:
    """A visitor's request from the provider's public booking page."""
    values = {
        "profile": profile,
        "visit_type": visit_type,
        "start_at": start,
        "patient_kind": "existing",
        "first_name": "Rosa",
        "last_name": "Rivera",
        "date_of_birth": DOB,
        "email": "rosa@example.org",
        "phone": "+12025550188",
        "reason": "Knee pain after a fall",
    }
    values.update(more)
    return services.request_submit(**values)


def request_row(practice, provider, **fields) -> AppointmentRequest:
    """A stored request (for the list's filters and counts)."""
    values = {
        "practice": practice,
        "provider": provider,
        "kind": RequestKind.NEW,
        "source": RequestSource.PUBLIC,
        "first_name": "Sam",
        "last_name": "Stone",
        "date_of_birth": DOB,
        "email": "sam@example.org",
        "reason": "Check-up",
    }
    values.update(fields)
    return AppointmentRequest.objects.create(**values)


def detail(req) -> str:
    return reverse("booking:request", args=[req.public_id])


def action(name: str, req) -> str:
    return reverse(f"booking:request_{name}", args=[req.public_id])


def rows(page) -> list[list[str]]:
    table = page.one("table")
    return [[td.text for td in tr.find_all("td")] for tr in table.one("tbody").find_all("tr")]


def radio_values(page, form_action: str, name: str) -> list[str]:
    form = page.one("form", action=form_action)
    return [i["value"] for i in form.find_all("input", type="radio", name=name)]


def checked(page, form_action: str, name: str) -> list[str]:
    form = page.one("form", action=form_action)
    return [i["value"] for i in form.find_all("input", type="radio", name=name, checked=True)]


@pytest.fixture
def staff_client(now, client, staff):
    sign_in(client, staff)
    return client


@pytest.fixture
def rosa(now, profile, follow_up):
    """Rosa Rivera asks for Monday 9:00 (Follow-up, 20 minutes)."""
    return ask(profile, follow_up, at(MONDAY, 9))


@pytest.fixture
def rosas_chart(practice):
    """The practice's chart of Rosa Rivera (same last name, another case, same birthday)."""
    return factories.make_patient(
        practice, legal_first_name="Rosa", legal_last_name="RIVERA", date_of_birth=DOB
    )


# --- Who may see the requests -----------------------------------------------------------------


def test_a_signed_in_patient_gets_403_and_nobody_signed_in_is_sent_to_sign_in(
    client, admin, rosa, patient
):
    assert client.get(REQUESTS).status_code == 302
    sign_in(client, factories.enroll(admin, patient))
    assert client.get(REQUESTS).status_code == 403
    assert client.get(detail(rosa)).status_code == 403
    assert client.post(action("approve", rosa)).status_code == 403
    assert AppointmentRequest.objects.get(pk=rosa.pk).status == RequestStatus.PENDING


def test_another_practices_request_is_404_and_their_actions_change_nothing(
    client, rosa, outsider, rosas_chart
):
    sign_in(client, outsider)
    assert client.get(detail(rosa)).status_code == 404
    assert client.post(action("approve", rosa), {"patient": "new"}).status_code == 404
    assert client.post(action("deny", rosa), {"reason": "No"}).status_code == 404
    assert client.post(action("propose", rosa), {"reason": "x"}).status_code == 404
    assert rosa.requester_name not in client.get(REQUESTS).content.decode()
    assert AppointmentRequest.objects.get(pk=rosa.pk).status == RequestStatus.PENDING
    assert not Appointment.objects.exists()
    assert not AuditEvent.objects.filter(action="booking.request_view").exists()


def test_a_get_on_each_action_is_refused_with_405(staff_client, rosa):
    for name in ("approve", "deny", "propose"):
        assert staff_client.get(action(name, rosa)).status_code == 405
    proposed = services.request_propose(
        factories.make_admin(rosa.practice),
        request=rosa,
        start_at=at(TUESDAY, 9),
        reason="Monday is full",
    )
    url = reverse("booking:appointment_confirm", args=[proposed.public_id])
    assert staff_client.get(url).status_code == 405
    assert Appointment.objects.get(pk=proposed.pk).status == AppointmentStatus.PROPOSED


def test_the_list_and_the_request_refuse_a_post(staff_client, rosa):
    assert staff_client.post(REQUESTS).status_code == 405
    assert staff_client.post(detail(rosa)).status_code == 405


# --- The list ---------------------------------------------------------------------------------


def test_the_schedule_has_an_appointment_requests_tab(staff_client):
    page = parse(staff_client.get(reverse("scheduling:schedule")))
    assert page.one("a", text="Appointment Requests")["href"] == REQUESTS


def test_the_list_shows_each_waiting_request_oldest_first_with_what_it_asks(
    staff_client, profile, follow_up, now
):
    ask(profile, follow_up, at(MONDAY, 9))
    ask(profile, follow_up, at(TUESDAY, 14), first_name="Ana", last_name="Diaz", patient_kind="new")

    response = staff_client.get(REQUESTS)

    assert response.status_code == 200
    page = parse(response)
    assert page.one("h1").text == "Appointment Requests"
    assert page.one("a", text="Appointment Requests")["aria-current"] == "page"
    assert page.one("a", text="Refresh")
    assert page.one("caption").text == "Requests waiting for the practice, oldest first"
    received = "December 7, 2026, 7:30 AM"
    assert rows(page) == [
        [
            received,
            "New appointment",
            "Rosa Rivera",
            "Dr. Paula Provider",
            "Follow-up",
            "Mon, Dec 7, 2026, 9:00 AM EST",
            "Existing patient",
            "Online profile",
        ],
        [
            received,
            "New appointment",
            "Ana Diaz",
            "Dr. Paula Provider",
            "Follow-up",
            "Tue, Dec 8, 2026, 2:00 PM EST",
            "New patient",
            "Online profile",
        ],
    ]


def test_the_list_filters_by_provider_and_by_request_type(
    staff_client, practice, provider, rosa, patient, follow_up, admin
):
    other = factories.make_staff(practice, role=Role.PROVIDER, full_name="Dr. Omar Other")
    request_row(practice, other, first_name="Olga")
    booked = appointment_book(
        admin,
        patient=patient,
        provider=provider,
        appointment_type=follow_up,
        start_at=at(TUESDAY, 10),
    )
    request_row(
        practice,
        provider,
        kind=RequestKind.CANCEL,
        source=RequestSource.PORTAL,
        first_name="Carl",
        original=booked,
        patient=patient,
    )

    def names(query):
        return [row[2] for row in rows(parse(staff_client.get(REQUESTS, query)))]

    assert names({}) == ["Rosa Rivera", "Olga Stone", "Carl Stone"]
    assert names({"provider": str(other.public_id)}) == ["Olga Stone"]
    assert names({"kind": "cancel"}) == ["Carl Stone"]
    assert names({"provider": str(provider.public_id), "kind": "new"}) == ["Rosa Rivera"]
    # A cancellation's time is the appointment's.
    carl = rows(parse(staff_client.get(REQUESTS, {"kind": "cancel"})))[0]
    assert carl[5] == "Tue, Dec 8, 2026, 10:00 AM EST" and carl[7] == "Patient portal"
    # Nothing left: the page says so.
    empty = parse(staff_client.get(REQUESTS, {"kind": "reschedule"}))
    assert not empty.find("table")
    assert "No request is waiting with these filters." in empty.text


def test_a_filter_value_that_is_not_one_of_the_choices_shows_everything(staff_client, rosa):
    response = staff_client.get(REQUESTS, {"provider": "nobody", "kind": "x", "show": "y"})
    assert response.status_code == 200
    assert [row[2] for row in rows(parse(response))] == ["Rosa Rivera"]


def test_answered_requests_are_listed_apart_most_recent_first_with_their_status(
    staff_client, rosa, profile, follow_up, admin, rosas_chart
):
    waiting = ask(profile, follow_up, at(TUESDAY, 9), first_name="Wes")
    services.request_deny(admin, request=rosa, reason="Not a patient of ours")

    pending = rows(parse(staff_client.get(REQUESTS)))
    answered_page = parse(staff_client.get(REQUESTS, {"show": "answered"}))

    assert [row[2] for row in pending] == [waiting.requester_name]
    assert answered_page.one("caption").text.startswith("Requests answered in the last 30 days")
    assert [(row[2], row[-1]) for row in rows(answered_page)] == [("Rosa Rivera", "Denied")]


def test_opening_the_list_is_one_audited_read_with_the_requests_shown(
    staff_client, rosa, staff, practice
):
    staff_client.get(REQUESTS, {"kind": "new"})

    event = AuditEvent.objects.get(action="booking.request_list")
    assert event.actor == staff and event.practice == practice and event.patient is None
    assert event.details["shown"] == 1
    assert event.details["requests"] == [str(rosa.public_id)]
    assert event.details["kind"] == "new" and event.details["show"] == "pending"


def _list_queries(client) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(REQUESTS)
    assert response.status_code == 200
    return len(captured)


def test_the_list_reads_a_fixed_number_of_queries_for_3_or_30_requests(
    staff_client, practice, provider, patient, follow_up, hours, admin
):
    def add(count, start_hour):
        for i in range(count):
            booked = appointment_book(
                admin,
                patient=patient,
                provider=provider,
                appointment_type=follow_up,
                start_at=at(MONDAY + dt.timedelta(days=start_hour + i // 8), 9)
                + dt.timedelta(minutes=20 * (i % 8)),
            )
            request_row(
                practice,
                provider,
                kind=RequestKind.RESCHEDULE if i % 2 else RequestKind.CANCEL,
                source=RequestSource.PORTAL,
                visit_type=follow_up,
                start_at=booked.start_at + dt.timedelta(days=1) if i % 2 else None,
                original=booked,
                patient=patient,
                first_name=f"P{i}",
            )

    add(3, 0)
    few = _list_queries(staff_client)
    add(27, 1)
    many = _list_queries(staff_client)

    assert len(rows(parse(staff_client.get(REQUESTS)))) == 30
    assert few == many


# --- One request ------------------------------------------------------------------------------


def test_a_request_shows_everything_it_carries_and_its_opening_is_audited(
    staff_client, rosa, staff
):
    response = staff_client.get(detail(rosa))

    assert response.status_code == 200
    page = parse(response)
    assert page.one("h1").text == "New appointment request: Rosa Rivera"
    facts = page.one("dl", class_="request-facts").text
    for shown in (
        "Rosa Rivera",
        "04/02/1980",
        "rosa@example.org",
        "+12025550188",
        "Knee pain after a fall",
        "Existing patient",
        "Online profile",
        "Follow-up",
        "Monday, December 7, 2026, 9:00 AM – 9:20 AM EST",
    ):
        assert shown in facts
    event = AuditEvent.objects.get(action="booking.request_view")
    assert event.actor == staff and event.details == {"request": str(rosa.public_id)}


def test_the_providers_day_is_shown_beside_the_request(
    staff_client, rosa, patient, provider, follow_up, admin
):
    appointment_book(
        admin, patient=patient, provider=provider, appointment_type=follow_up,
        start_at=at(MONDAY, 10),
    )  # fmt: skip

    page = parse(staff_client.get(detail(rosa)))

    aside = page.one("aside")
    assert aside.one("h2").text == "Dr. Paula Provider's day"
    assert aside.one("h3").text == "Monday, December 7, 2026"
    items = [li.text for li in aside.find_all("li", class_="sched-item")]
    assert items[0] == "Open 9:00 AM – 10:00 AM"
    assert items[1].startswith(f"10:00 AM – 10:20 AM {patient.display_name} Follow-up")
    assert "The time asked is open." in aside.text
    # The day shows other patients: it is audited as the schedule's day view is.
    event = AuditEvent.objects.get(action="schedule.view")
    assert event.details["date"] == "2026-12-07" and event.details["page"] == "appointment request"
    # Another day, from the calendar's links.
    later = parse(staff_client.get(detail(rosa), {"day": "2026-12-08"}))
    assert later.one("aside").one("h3").text == "Tuesday, December 8, 2026"


def test_a_time_asked_that_was_booked_meanwhile_is_said_to_be_no_longer_open(
    staff_client, rosa, patient, provider, follow_up, admin
):
    appointment_book(
        admin, patient=patient, provider=provider, appointment_type=follow_up,
        start_at=at(MONDAY, 9, 10),
    )  # fmt: skip
    page = parse(staff_client.get(detail(rosa)))
    assert "The time asked is no longer open" in page.one("aside").text
    # The Reschedule section is the one open.
    propose = page.one("form", action=action("propose", rosa)).closest("details")
    assert propose.get("open") is not None


def test_the_chart_with_the_requesters_last_name_and_birthday_is_chosen(
    staff_client, rosa, rosas_chart, practice
):
    factories.make_patient(practice, legal_last_name="Rivera", date_of_birth=dt.date(1990, 1, 1))

    page = parse(staff_client.get(detail(rosa)))

    approve = action("approve", rosa)
    assert radio_values(page, approve, "patient") == [str(rosas_chart.public_id), "new"]
    assert checked(page, approve, "patient") == [str(rosas_chart.public_id)]
    event = AuditEvent.objects.get(action="chart.list")
    assert event.details["charts"] == [str(rosas_chart.public_id)]
    assert event.details["page"] == "appointment request"


def test_without_a_matching_chart_a_new_patient_is_chosen_prefilled_from_the_request(
    staff_client, rosa
):
    page = parse(staff_client.get(detail(rosa)))

    approve = action("approve", rosa)
    assert checked(page, approve, "patient") == ["new"]
    form = page.one("form", action=approve)
    assert form.one("input", name="legal_first_name")["value"] == "Rosa"
    assert form.one("input", name="legal_last_name")["value"] == "Rivera"
    assert form.one("input", name="date_of_birth")["value"] == "1980-04-02"
    assert form.one("input", name="email")["value"] == "rosa@example.org"


def test_change_patient_searches_the_practices_charts_by_name(
    staff_client, rosa, practice, other_practice
):
    mine = factories.make_patient(practice, legal_first_name="Rosalind", legal_last_name="Royce")
    factories.make_patient(other_practice, legal_first_name="Rosalind", legal_last_name="Royce")

    page = parse(staff_client.get(detail(rosa), {"q": "Royce"}))

    assert radio_values(page, action("approve", rosa), "patient") == [str(mine.public_id), "new"]
    event = AuditEvent.objects.get(action="chart.list")
    assert event.details["search"] == "name"


# --- Approve ----------------------------------------------------------------------------------


def test_approving_with_an_existing_chart_books_it_there(staff_client, rosa, rosas_chart, staff):
    # (The new patient's details are not read when an existing chart is chosen.)
    response = staff_client.post(
        action("approve", rosa),
        {"patient": str(rosas_chart.public_id), "date_of_birth": "not read", "legal_last_name": ""},
    )

    assert response.status_code == 302 and response["Location"] == detail(rosa)
    appointment = Appointment.objects.get()
    assert appointment.patient == rosas_chart
    assert appointment.start_at == at(MONDAY, 9)
    assert appointment.status == AppointmentStatus.BOOKED
    assert appointment.reason == "Knee pain after a fall"
    stored = AppointmentRequest.objects.get(pk=rosa.pk)
    assert stored.status == RequestStatus.APPROVED and stored.decided_by == staff
    assert stored.patient == rosas_chart and stored.appointment == appointment
    assert OutboundEmail.objects.filter(kind="scheduling.booked", to_address="rosa@example.org")
    assert Patient.objects.count() == 1
    # The request now shows its outcome and no decision.
    page = parse(staff_client.get(detail(rosa)))
    assert messages(page) == ["The request is approved: the appointment is booked."]
    assert page.one("h2", text="Outcome")
    for name in ("approve", "deny", "propose"):
        assert not page.find("form", action=action(name, rosa))
    assert not page.find("button", text="Approve")


def test_approving_with_a_new_patient_adds_a_chart_with_the_names_typed(staff_client, rosa):
    response = staff_client.post(
        action("approve", rosa),
        {
            "patient": "new",
            "legal_first_name": "Rosa María",
            "legal_last_name": "Rivera Soto",
            "date_of_birth": "1980-04-03",
            "email": "rosa@example.org",
            "mobile_phone": "202 555 0188",
        },
    )

    assert response.status_code == 302
    chart = Patient.objects.get()
    assert (chart.legal_first_name, chart.legal_last_name) == ("Rosa María", "Rivera Soto")
    assert chart.date_of_birth == dt.date(1980, 4, 3)
    assert chart.mobile_phone == "+12025550188"
    assert Appointment.objects.get().patient == chart
    assert AppointmentRequest.objects.get(pk=rosa.pk).patient == chart


def test_approving_without_choosing_among_several_charts_is_refused(
    staff_client, rosa, rosas_chart, practice
):
    factories.make_patient(
        practice, legal_first_name="R.", legal_last_name="Rivera", date_of_birth=DOB
    )

    page = parse(staff_client.get(detail(rosa)))
    assert checked(page, action("approve", rosa), "patient") == []

    response = staff_client.post(action("approve", rosa), {"patient": ""})
    assert response.status_code == 400
    assert "Choose the patient's chart, or Add a new patient." in parse(response).text
    assert not Appointment.objects.exists()
    assert AppointmentRequest.objects.get(pk=rosa.pk).status == RequestStatus.PENDING


def test_approving_onto_another_practices_chart_or_a_bad_new_patient_changes_nothing(
    staff_client, rosa, other_practice
):
    theirs = factories.make_patient(other_practice, legal_last_name="Rivera", date_of_birth=DOB)
    refused = staff_client.post(action("approve", rosa), {"patient": str(theirs.public_id)})
    assert refused.status_code == 400

    no_name = staff_client.post(
        action("approve", rosa),
        {"patient": "new", "legal_first_name": "", "legal_last_name": "Rivera",
         "date_of_birth": "1980-04-02", "email": "rosa@example.org"},
    )  # fmt: skip
    assert no_name.status_code == 400
    assert field_errors(parse(no_name), "approve-legal_first_name") == ["This field is required."]

    bad_date = staff_client.post(
        action("approve", rosa),
        {"patient": "new", "legal_first_name": "Rosa", "legal_last_name": "Rivera",
         "date_of_birth": "not a date"},
    )  # fmt: skip
    assert bad_date.status_code == 400
    assert field_errors(parse(bad_date), "approve-date_of_birth")

    assert not Appointment.objects.exists()
    assert not Patient.objects.filter(practice=rosa.practice).exists()
    assert AppointmentRequest.objects.get(pk=rosa.pk).status == RequestStatus.PENDING


def test_approving_a_time_taken_meanwhile_answers_409_with_the_books_message_and_open_times(
    staff_client, rosa, profile, follow_up, admin
):
    sam = ask(profile, follow_up, at(MONDAY, 9), first_name="Sam", last_name="Stone")
    services.request_approve(admin, request=sam)

    response = staff_client.post(action("approve", rosa), {"patient": "new",
                                 "legal_first_name": "Rosa", "legal_last_name": "Rivera",
                                 "date_of_birth": "1980-04-02"})  # fmt: skip

    assert response.status_code == 409
    page = parse(response)
    assert form_errors(page) == ["That time is already booked. Choose one of the open times."]
    # The provider's open times are there to propose another.
    times = radio_values(page, action("propose", rosa), "start_at")
    assert times[:2] == ["2026-12-07T09:20:00-05:00", "2026-12-07T09:40:00-05:00"]
    assert AppointmentRequest.objects.get(pk=rosa.pk).status == RequestStatus.PENDING
    assert Appointment.objects.count() == 1
    assert Patient.objects.count() == 1  # Sam's: no chart was added for Rosa


def test_an_answered_request_cannot_be_answered_again(staff_client, rosa, admin):
    services.request_deny(admin, request=rosa, reason="Duplicate")

    response = staff_client.post(action("approve", rosa), {"patient": "new"})

    assert response.status_code == 400
    assert (
        "This request was already answered (denied)."
        in parse(response).one("div", class_="errors").text
    )
    assert AppointmentRequest.objects.get(pk=rosa.pk).status == RequestStatus.DENIED
    assert not Appointment.objects.exists()


def test_approving_a_reschedule_moves_the_appointment(
    staff_client, profile, access, enrolled, patient, provider, follow_up, admin
):
    booked = appointment_book(
        admin, patient=patient, provider=provider, appointment_type=follow_up,
        start_at=at(TUESDAY, 10),
    )  # fmt: skip
    req = services.reschedule_request(
        enrolled, access=access, appointment=booked, start_at=at(TUESDAY, 14), note="Work"
    )

    page = parse(staff_client.get(detail(req)))
    assert page.one("h1").text == f"Reschedule request: {req.requester_name}"
    assert "Work" in page.one("dl", class_="request-facts").text
    assert not page.find("input", name="patient")  # the chart is known
    response = staff_client.post(action("approve", req))

    assert response.status_code == 302
    booked.refresh_from_db()
    assert booked.start_at == at(TUESDAY, 14)
    assert AppointmentRequest.objects.get(pk=req.pk).status == RequestStatus.APPROVED


# --- Deny -------------------------------------------------------------------------------------


def test_denying_needs_a_reason_and_changes_nothing_without_one(staff_client, rosa):
    response = staff_client.post(action("deny", rosa), {"reason": "  ", "message": "Sorry"})

    assert response.status_code == 400
    page = parse(response)
    assert field_errors(page, "deny-reason") == ["Say why the request is denied."]
    assert page.one("form", action=action("deny", rosa)).closest("details").get("open") is not None
    assert AppointmentRequest.objects.get(pk=rosa.pk).status == RequestStatus.PENDING
    assert not OutboundEmail.objects.filter(kind="booking.denied").exists()


def test_denying_emails_the_address_typed_in_the_request(staff_client, rosa, staff):
    response = staff_client.post(
        action("deny", rosa),
        {"reason": "The provider is away", "message": "Please call us for another time."},
    )

    assert response.status_code == 302
    stored = AppointmentRequest.objects.get(pk=rosa.pk)
    assert stored.status == RequestStatus.DENIED and stored.decided_by == staff
    assert stored.decision_reason == "The provider is away"
    assert stored.decision_message == "Please call us for another time."
    assert OutboundEmail.objects.filter(kind="booking.denied", to_address="rosa@example.org")
    assert not Appointment.objects.exists() and not Patient.objects.exists()
    page = parse(staff_client.get(detail(rosa)))
    assert "The provider is away" in page.text and "Denied" in page.text


# --- Reschedule: propose another time -----------------------------------------------------------


def test_proposing_one_of_the_open_times_makes_a_tentative_appointment_on_the_chart(
    staff_client, rosa, rosas_chart, staff
):
    response = staff_client.post(
        action("propose", rosa),
        {
            "patient": str(rosas_chart.public_id),
            "start_at": "2026-12-07T10:00:00-05:00",
            "reason": "9:00 is kept for urgent visits",
            "message": "Does 10:00 suit you?",
        },
    )

    assert response.status_code == 302
    appointment = Appointment.objects.get()
    assert appointment.patient == rosas_chart
    assert appointment.start_at == at(MONDAY, 10)
    assert appointment.status == AppointmentStatus.PROPOSED
    assert appointment.get_status_display() == "Tentative"
    stored = AppointmentRequest.objects.get(pk=rosa.pk)
    assert stored.status == RequestStatus.PROPOSED and stored.appointment == appointment
    assert stored.decision_reason == "9:00 is kept for urgent visits"
    assert OutboundEmail.objects.filter(kind="booking.proposed", to_address="rosa@example.org")
    page = parse(staff_client.get(reverse("scheduling:appointment", args=[appointment.public_id])))
    assert "Tentative" in page.one("dl").text


def test_a_proposal_whose_tentative_appointment_staff_cancelled_says_so_and_is_no_longer_open(
    staff_client, rosa, rosas_chart, staff
):
    staff_client.post(
        action("propose", rosa),
        {
            "patient": str(rosas_chart.public_id),
            "start_at": "2026-12-07T10:00:00-05:00",
            "reason": "9:00 is kept for urgent visits",
        },
    )
    appointment = Appointment.objects.get()
    appointment_cancel(staff, appointment=appointment, reason="Patient called: not needed")

    stored = AppointmentRequest.objects.get(pk=rosa.pk)
    assert stored.status == RequestStatus.PROPOSED and not stored.is_open
    page = parse(staff_client.get(detail(rosa)))
    assert "Proposed time cancelled" in page.text
    assert "Another time proposed" not in page.text


def test_proposing_a_date_and_time_typed_in_the_practices_time_zone(staff_client, rosa):
    response = staff_client.post(
        action("propose", rosa),
        {"patient": "new", "legal_first_name": "Rosa", "legal_last_name": "Rivera",
         "date_of_birth": "1980-04-02", "date": "2026-12-08", "time": "15:40",
         "reason": "Monday is full"},
    )  # fmt: skip

    assert response.status_code == 302
    appointment = Appointment.objects.get()
    assert appointment.start_at == at(TUESDAY, 15, 40)
    assert appointment.status == AppointmentStatus.PROPOSED
    assert appointment.patient.legal_last_name == "Rivera"


def test_proposing_needs_a_reason_and_a_time_and_changes_nothing_without_them(staff_client, rosa):
    no_reason = staff_client.post(
        action("propose", rosa),
        {"patient": "new", "legal_first_name": "Rosa", "legal_last_name": "Rivera",
         "date_of_birth": "1980-04-02", "start_at": "2026-12-07T10:00:00-05:00"},
    )  # fmt: skip
    assert no_reason.status_code == 400
    assert field_errors(parse(no_reason), "propose-reason") == ["Say why another time is proposed."]
    # The open time chosen stays chosen.
    assert checked(parse(no_reason), action("propose", rosa), "start_at") == [
        "2026-12-07T10:00:00-05:00"
    ]

    no_time = staff_client.post(action("propose", rosa), {"patient": "new", "reason": "Full"})
    assert no_time.status_code == 400
    assert "Choose one of the open times, or enter a date and a time." in parse(no_time).text

    garbage = staff_client.post(
        action("propose", rosa), {"patient": "new", "reason": "Full", "start_at": "soon"}
    )
    assert garbage.status_code == 400

    lunch = staff_client.post(
        action("propose", rosa),
        {"patient": "new", "legal_first_name": "Rosa", "legal_last_name": "Rivera",
         "date_of_birth": "1980-04-02", "date": "2026-12-07", "time": "12:20", "reason": "Full"},
    )  # fmt: skip
    assert lunch.status_code == 400

    assert not Appointment.objects.exists() and not Patient.objects.exists()
    assert AppointmentRequest.objects.get(pk=rosa.pk).status == RequestStatus.PENDING
    assert not OutboundEmail.objects.filter(kind="booking.proposed").exists()


def test_proposing_a_time_taken_meanwhile_answers_409(
    staff_client, rosa, patient, provider, follow_up, admin
):
    appointment_book(
        admin, patient=patient, provider=provider, appointment_type=follow_up,
        start_at=at(MONDAY, 10),
    )  # fmt: skip
    response = staff_client.post(
        action("propose", rosa),
        {"patient": "new", "legal_first_name": "Rosa", "legal_last_name": "Rivera",
         "date_of_birth": "1980-04-02", "start_at": "2026-12-07T10:00:00-05:00",
         "reason": "Full"},
    )  # fmt: skip
    assert response.status_code == 409
    assert field_errors(parse(response), "propose-start_at") == [
        "That time is already booked. Choose one of the open times."
    ]
    assert Appointment.objects.count() == 1
    assert AppointmentRequest.objects.get(pk=rosa.pk).status == RequestStatus.PENDING


def test_a_cancellation_request_offers_approve_and_deny_only(
    staff_client, practice, provider, patient, follow_up, hours, admin
):
    booked = appointment_book(
        admin, patient=patient, provider=provider, appointment_type=follow_up,
        start_at=at(TUESDAY, 10),
    )  # fmt: skip
    req = request_row(
        practice, provider, kind=RequestKind.CANCEL, source=RequestSource.PORTAL,
        original=booked, patient=patient, patient_kind=PatientKind.EXISTING,
        reason="I feel better",
    )  # fmt: skip

    page = parse(staff_client.get(detail(req)))

    assert page.one("button", text="Approve") and page.one("button", text="Deny")
    assert not page.find("button", text="Propose Changes")
    assert "I feel better" in page.one("dl", class_="request-facts").text
    refused = staff_client.post(
        action("propose", req), {"start_at": "2026-12-08T11:00:00-05:00", "reason": "x"}
    )
    assert refused.status_code == 400
    assert staff_client.post(action("approve", req)).status_code == 302
    booked.refresh_from_db()
    assert booked.status == AppointmentStatus.CANCELLED


# --- Confirming a tentative appointment ---------------------------------------------------------


def test_staff_confirm_a_tentative_appointment_the_patient_agreed_to_on_the_phone(
    staff_client, rosa, admin
):
    proposed = services.request_propose(
        admin, request=rosa, start_at=at(TUESDAY, 9), reason="Monday is full"
    )
    url = reverse("scheduling:appointment", args=[proposed.public_id])

    page = parse(staff_client.get(url))
    assert page.one("a", text="The request this appointment answers")["href"] == detail(rosa)
    confirm = reverse("booking:appointment_confirm", args=[proposed.public_id])
    assert page.one("form", action=confirm).one("button").text == "Confirm appointment"

    response = staff_client.post(confirm)

    assert response.status_code == 302 and response["Location"] == url
    proposed.refresh_from_db()
    assert proposed.status == AppointmentStatus.BOOKED
    assert AppointmentRequest.objects.get(pk=rosa.pk).status == RequestStatus.APPROVED
    assert OutboundEmail.objects.filter(kind="scheduling.booked", to_address="rosa@example.org")
    after = parse(staff_client.get(url))
    assert not after.find("form", action=confirm)
    assert messages(after) == ["The appointment is confirmed. The patient gets an email."]


def test_confirming_a_confirmed_appointment_changes_nothing_and_a_cancelled_one_is_refused(
    client, staff_client, patient, provider, follow_up, hours, admin, outsider
):
    booked = appointment_book(
        admin, patient=patient, provider=provider, appointment_type=follow_up,
        start_at=at(TUESDAY, 10),
    )  # fmt: skip
    confirm = reverse("booking:appointment_confirm", args=[booked.public_id])
    page = parse(staff_client.get(reverse("scheduling:appointment", args=[booked.public_id])))
    assert not page.find("form", action=confirm)
    emails = OutboundEmail.objects.count()

    # A second click (or a confirmed one): nothing changes, no second email.
    assert staff_client.post(confirm).status_code == 302
    assert OutboundEmail.objects.count() == emails

    appointment_cancel(admin, appointment=booked, reason="The patient moved away")
    response = staff_client.post(confirm)
    assert response.status_code == 400
    assert "Only a pending or tentative appointment can be confirmed." in parse(response).text
    assert Appointment.objects.get(pk=booked.pk).status == AppointmentStatus.CANCELLED

    sign_in(client, outsider)
    assert client.post(confirm).status_code == 404
