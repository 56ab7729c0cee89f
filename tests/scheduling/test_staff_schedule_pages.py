"""The appointment book's staff pages (SPEC §8.4, §8.8): the day and week views, booking a
patient, and one appointment with its move, cancel and mark actions. What a user sees, what is
stored, what is audited; bad input gets its message next to the field and changes nothing;
another practice's objects are 404 and a patient gets 403."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from portico.audit.models import AuditEvent
from portico.practices.models import Membership, Role
from portico.scheduling import services
from portico.scheduling.models import Appointment, AppointmentStatus
from portico.scheduling.services import appointment_book, blocked_time_add, working_hours_set
from tests import factories
from tests.factories import sign_in
from tests.pages.html import field_errors, form_errors, messages, parse
from tests.scheduling.conftest import NOW, at, weekdays

pytestmark = pytest.mark.django_db

MONDAY = NOW.date()
TUESDAY = MONDAY + dt.timedelta(days=1)
SCHEDULE = reverse("scheduling:schedule")
BOOK = reverse("scheduling:book")


def book(actor, patient, provider, visit_type, start, **kw):
    return appointment_book(
        actor, patient=patient, provider=provider, appointment_type=visit_type, start_at=start, **kw
    )


def column(page, name):
    """A provider's (or a day's) column of the day or week view, by its heading."""
    heading = page.one("a", text=name).closest("h3")
    return heading.closest("section")


def heard(element) -> str:
    """The text a screen reader reads: visible text without what is aria-hidden."""
    parts: list[str] = []

    def walk(node):
        for child in node.children:
            if isinstance(child, str):
                parts.append(child)
            elif child.get("aria-hidden") != "true":
                walk(child)

    walk(element)
    return re.sub(r"\s+", " ", "".join(parts)).strip()


def lines(section) -> list[str]:
    return [heard(li) for li in section.find_all("li", class_="sched-item")]


@pytest.fixture
def staff_client(now, client, staff):
    sign_in(client, staff)
    return client


@pytest.fixture
def booked(now, admin, staff, patient, provider, follow_up, hours):
    """Monday: the patient at 9:20 with the provider, and a staff meeting 10:00–10:30."""
    blocked_time_add(
        admin,
        practice=patient.practice,
        provider=provider,
        start_at=at(MONDAY, 10),
        end_at=at(MONDAY, 10, 30),
        label="Staff meeting",
    )
    return book(staff, patient, provider, follow_up, at(MONDAY, 9, 20), reason="Cough")


def _admin(practice):
    return Membership.objects.filter(practice=practice, role=Role.ADMINISTRATOR).first().user


# --- The day view -------------------------------------------------------------------------------


def test_the_day_view_lists_a_providers_appointments_open_times_and_blocked_times_in_order(
    staff_client, booked, patient, provider
):
    response = staff_client.get(SCHEDULE)

    assert response.status_code == 200
    page = parse(response)
    assert page.one("h2", id="sched-heading").text == "Monday, December 7, 2026"
    assert lines(column(page, "Dr. Paula Provider")) == [
        "Open 9:00 AM – 9:20 AM",
        f"9:20 AM – 9:40 AM {patient.display_name} Follow-up Confirmed",
        "Open 9:40 AM – 10:00 AM",
        "10:00 AM – 10:30 AM Blocked: Staff meeting",
        "Open 10:30 AM – 12:00 PM",
        "Open 1:00 PM – 5:00 PM",
    ]
    patient_link = page.one("a", text=patient.display_name)
    assert patient_link["href"] == reverse("scheduling:appointment", args=[booked.public_id])
    open_link = page.one("a", text="Open 9:40 AM – 10:00 AM")
    assert open_link["href"] == (
        f"{BOOK}?provider={provider.public_id}&date=2026-12-07&time=09%3A40"
    )


def test_a_status_is_told_by_its_name_and_a_mark_not_by_colour_alone(
    staff_client, booked, patient, staff
):
    services.appointment_mark(staff, appointment=booked, status=AppointmentStatus.ARRIVED)

    page = parse(staff_client.get(SCHEDULE))

    item = page.one("li", class_="sched-status-arrived")
    status = item.one("span", class_="sched-status")
    assert status.text.endswith("Arrived")
    assert status.one("span", class_="sched-mark").get("aria-hidden") == "true"
    assert status.one("span", class_="sched-mark").text


def test_providers_are_side_by_side_and_the_provider_filter_shows_one(
    staff_client, booked, practice, provider
):
    other = factories.make_staff(practice, role=Role.PROVIDER, full_name="Dr. Olga Other")
    working_hours_set(
        _admin(practice), practice=practice, provider=other, stretches=weekdays(((8, 0), (9, 0)))
    )

    page = parse(staff_client.get(SCHEDULE))
    assert [h.text for h in page.find_all("h3")] == ["Dr. Olga Other", "Dr. Paula Provider"]
    assert lines(column(page, "Dr. Olga Other")) == ["Open 8:00 AM – 9:00 AM"]

    page = parse(staff_client.get(SCHEDULE, {"provider": str(other.public_id)}))
    assert [h.text for h in page.find_all("h3")] == ["Dr. Olga Other"]
    assert page.one("select", id="sched-provider").one("option", selected=True).text == (
        "Dr. Olga Other"
    )


def test_a_day_off_says_not_working(staff_client, booked):
    sunday = MONDAY - dt.timedelta(days=1)
    page = parse(staff_client.get(SCHEDULE, {"date": sunday.isoformat()}))

    assert page.one("h2", id="sched-heading").text == "Sunday, December 6, 2026"
    assert "Not working" in column(page, "Dr. Paula Provider").text


def test_previous_next_today_and_the_view_switch_are_links_and_the_date_form_is_a_get_form(
    staff_client, booked, provider
):
    page = parse(staff_client.get(SCHEDULE, {"date": "2026-12-09", "provider": provider.public_id}))

    nav = page.one("nav", class_="sched-nav")
    q = f"provider={provider.public_id}"
    assert nav.one("a", text="Previous day")["href"] == f"{SCHEDULE}?view=day&date=2026-12-08&{q}"
    assert nav.one("a", text="Next day")["href"] == f"{SCHEDULE}?view=day&date=2026-12-10&{q}"
    assert nav.one("a", text="Today")["href"] == f"{SCHEDULE}?view=day&date=2026-12-07&{q}"
    assert nav.one("a", text="Week")["href"] == f"{SCHEDULE}?view=week&date=2026-12-09&{q}"
    form = page.one("form", class_="sched-filters")
    assert form["method"] == "get"
    assert form.one("input", name="date")["value"] == "2026-12-09"
    assert form.one("input", name="date")["type"] == "date"


def test_a_date_that_is_not_a_date_shows_today(staff_client, booked):
    page = parse(staff_client.get(SCHEDULE, {"date": "12/07/2026x", "view": "month"}))

    assert page.one("h2", id="sched-heading").text == "Monday, December 7, 2026"


# --- The week views -------------------------------------------------------------------------------


def test_the_week_of_one_provider_shows_seven_days_with_the_same_items(
    staff_client, booked, patient, provider
):
    page = parse(
        staff_client.get(
            SCHEDULE, {"view": "week", "date": "2026-12-09", "provider": provider.public_id}
        )
    )

    assert page.one("h2", id="sched-heading").text == (
        "Dr. Paula Provider · Week of December 7, 2026"
    )
    headings = [h.text for h in page.find_all("h3")]
    assert headings[0] == "Monday, December 7" and headings[-1] == "Sunday, December 13"
    assert len(headings) == 7
    monday = column(page, "Monday, December 7")
    assert f"9:20 AM – 9:40 AM {patient.display_name} Follow-up Confirmed" in lines(monday)
    assert lines(column(page, "Tuesday, December 8")) == [
        "Open 9:00 AM – 12:00 PM",
        "Open 1:00 PM – 5:00 PM",
    ]
    assert "Not working" in column(page, "Saturday, December 12").text


def test_the_week_of_every_provider_counts_booked_and_open_time_per_day(
    staff_client, booked, provider
):
    page = parse(staff_client.get(SCHEDULE, {"view": "week", "date": "2026-12-07"}))

    table = page.one("table", class_="sched-week")
    assert [th.text for th in table.find_all("th", scope="col")] == [
        "Provider",
        "Mon, Dec 7",
        "Tue, Dec 8",
        "Wed, Dec 9",
        "Thu, Dec 10",
        "Fri, Dec 11",
        "Sat, Dec 12",
        "Sun, Dec 13",
    ]
    row = table.one("th", scope="row").closest("tr")
    cells = [td.text for td in row.find_all("td")]
    # Monday: 7 working hours less a 20-minute visit and a 30-minute meeting.
    assert cells[0] == "1 booked6 h 10 min open, first at 9:00 AM"
    assert cells[1] == "0 booked7 h open, first at 9:00 AM"
    assert cells[5] == "Not working"
    monday = row.find_all("td")[0].one("a")
    assert monday["href"] == f"{SCHEDULE}?view=day&date=2026-12-07&provider={provider.public_id}"


# --- Audit and query counts -----------------------------------------------------------------------


def test_each_view_of_the_book_writes_one_schedule_view_event(staff_client, booked, staff):
    for query in ({}, {"view": "week"}, {"view": "week", "provider": booked.provider.public_id}):
        before = AuditEvent.objects.count()
        staff_client.get(SCHEDULE, {"date": "2026-12-08", **query})
        events = AuditEvent.objects.order_by("-id")[: AuditEvent.objects.count() - before]
        assert [e.action for e in events] == ["schedule.view"]
        event = events[0]
        assert event.actor == staff and event.practice == booked.practice
        assert event.details["date"] == "2026-12-08"
        assert event.details["view"] == query.get("view", "day")


def _queries(client, query) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(SCHEDULE, query)
    assert response.status_code == 200
    return len(captured)


def test_the_book_reads_a_fixed_number_of_queries_however_many_providers_and_appointments(
    staff_client, booked, practice, staff, follow_up
):
    views = [{}, {"view": "week"}, {"view": "week", "provider": booked.provider.public_id}]
    few = [_queries(staff_client, q) for q in views]

    admin = _admin(practice)
    for n in range(4):
        other = factories.make_staff(practice, role=Role.PROVIDER, full_name=f"Dr. Extra {n}")
        working_hours_set(
            admin, practice=practice, provider=other, stretches=weekdays(((9, 0), (17, 0)))
        )
        for day in range(5):
            for hour in (9, 11, 14):
                book(
                    staff,
                    factories.make_patient(practice),
                    other,
                    follow_up,
                    at(MONDAY + dt.timedelta(days=day), hour),
                )
    for hour in (13, 14, 15):
        book(staff, factories.make_patient(practice), booked.provider, follow_up, at(MONDAY, hour))

    many = [_queries(staff_client, q) for q in views]
    assert many == few


# --- Tenancy and refusals -------------------------------------------------------------------------


def test_another_practices_provider_in_the_filter_is_404(staff_client, booked, other_practice):
    theirs = factories.make_staff(other_practice, role=Role.PROVIDER)

    assert staff_client.get(SCHEDULE, {"provider": theirs.public_id}).status_code == 404
    assert staff_client.get(SCHEDULE, {"provider": "not-a-uuid"}).status_code == 404


def test_staff_of_another_practice_see_their_own_book_only(client, booked, outsider, patient):
    sign_in(client, outsider)

    response = client.get(SCHEDULE)

    assert response.status_code == 200
    assert patient.display_name not in response.content.decode()
    for name in ("appointment", "move", "cancel", "mark"):
        method = client.get if name == "appointment" else client.post
        assert method(reverse(f"scheduling:{name}", args=[booked.public_id])).status_code == 404


def test_a_signed_in_patient_gets_403_on_the_book_pages(client, admin, booked, patient):
    sign_in(client, factories.enroll(admin, patient))

    for url in (SCHEDULE, BOOK, reverse("scheduling:appointment", args=[booked.public_id])):
        assert client.get(url).status_code == 403
    assert client.post(reverse("scheduling:cancel", args=[booked.public_id])).status_code == 403
    booked.refresh_from_db()
    assert booked.status == AppointmentStatus.BOOKED


# --- Booking --------------------------------------------------------------------------------------


def test_the_booking_page_for_a_chart_shows_the_patient_and_the_open_times_by_day(
    staff_client, now, patient, provider, follow_up, hours, staff
):
    response = staff_client.get(BOOK, {"patient": patient.public_id})

    assert response.status_code == 200
    page = parse(response)
    assert page.one("p", class_="book-patient").text.startswith(f"Patient: {patient.display_name}")
    radio = page.one("input", name="patient", type="radio")
    assert radio["value"] == str(patient.public_id) and radio.get("checked") is not None
    # The only provider and the first visit type are chosen; 14 days from today.
    days = [
        legend.text
        for legend in page.find_all("legend")
        if legend.closest("fieldset").get("class") == "open-day"
    ]
    assert days[0] == "Monday, December 7, 2026" and len(days) == 10  # two working weeks
    first = page.find_all("input", name="start_at")[0]
    assert first["value"] == "2026-12-07T09:00:00-05:00"
    assert page.one("label", for_=first["id"]).text == "9:00 AM"
    event = AuditEvent.objects.get(action="chart.list")
    assert event.actor == staff and event.details["charts"] == [str(patient.public_id)]


def test_a_patient_search_on_the_booking_page_lists_charts_and_is_audited(
    staff_client, now, practice, patient, provider, follow_up, hours
):
    other = factories.make_patient(practice, legal_last_name="Zebra")

    page = parse(staff_client.get(BOOK, {"q": patient.legal_last_name}))

    values = [r["value"] for r in page.find_all("input", name="patient")]
    assert values == [str(patient.public_id)]
    assert other.display_name not in page.text
    event = AuditEvent.objects.get(action="chart.list")
    assert event.details["search"] == "name"
    assert event.details["charts"] == [str(patient.public_id)]


def test_an_open_stretchs_link_preselects_its_time(staff_client, now, patient, provider, hours,
                                                    follow_up):  # fmt: skip
    page = parse(
        staff_client.get(
            BOOK,
            {
                "patient": patient.public_id,
                "provider": provider.public_id,
                "date": "2026-12-08",
                "time": "10:20",
            },
        )
    )

    checked = page.one("input", name="start_at", checked=True)
    assert checked["value"] == "2026-12-08T10:20:00-05:00"


def test_another_practices_or_an_unknown_chart_on_the_booking_page_is_404(
    staff_client, now, other_practice
):
    theirs = factories.make_patient(other_practice)

    assert staff_client.get(BOOK, {"patient": theirs.public_id}).status_code == 404
    assert staff_client.get(BOOK, {"patient": "nope"}).status_code == 404


def _post_book(client, patient, provider, visit_type, start, reason="Cough"):
    return client.post(
        BOOK,
        {
            "patient": str(patient.public_id),
            "provider": str(provider.public_id),
            "visit_type": str(visit_type.public_id) if visit_type else "x",
            "date": MONDAY.isoformat(),
            "start_at": start.isoformat(),
            "reason": reason,
        },
    )


def test_booking_from_the_page_stores_the_appointment_and_opens_it(
    staff_client, now, patient, provider, follow_up, hours
):
    response = _post_book(staff_client, patient, provider, follow_up, at(TUESDAY, 10, 20))

    appointment = Appointment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("scheduling:appointment", args=[appointment.public_id])
    assert appointment.patient == patient and appointment.provider == provider
    assert appointment.start_at == at(TUESDAY, 10, 20) and appointment.reason == "Cough"
    page = parse(staff_client.get(response["Location"]))
    assert messages(page) == ["The appointment is booked for December 8, 2026, 10:20 AM."]


def test_booking_an_unknown_visit_type_is_refused_next_to_the_field_and_stores_nothing(
    staff_client, now, patient, provider, follow_up, hours
):
    response = _post_book(staff_client, patient, provider, None, at(TUESDAY, 10, 20))

    assert response.status_code == 400
    assert field_errors(parse(response), "find-visit_type") == [
        "Choose a visit type of this practice."
    ]
    assert not Appointment.objects.exists()


def test_booking_outside_working_hours_is_refused_with_a_clear_message(
    staff_client, now, patient, provider, follow_up, hours
):
    response = _post_book(staff_client, patient, provider, follow_up, at(TUESDAY, 18, 0))

    assert response.status_code == 400
    assert field_errors(parse(response), "book-start_at") == [
        "This time is outside Dr. Paula Provider's working hours."
    ]
    assert not Appointment.objects.exists()


def test_booking_without_a_patient_or_a_time_says_what_to_choose(
    staff_client, now, provider, follow_up, hours
):
    response = staff_client.post(
        BOOK, {"provider": str(provider.public_id), "visit_type": str(follow_up.public_id)}
    )

    assert response.status_code == 400
    page = parse(response)
    assert field_errors(page, "book-patient") == ["Choose a patient."]
    assert field_errors(page, "book-start_at") == ["Choose one of the open times."]
    assert not Appointment.objects.exists()


def test_booking_a_time_taken_meanwhile_answers_409_with_the_open_times_again(
    staff_client, now, staff, practice, patient, provider, follow_up, hours
):
    first = book(staff, factories.make_patient(practice), provider, follow_up, at(MONDAY, 9, 0))

    response = _post_book(staff_client, patient, provider, follow_up, at(MONDAY, 9, 0))

    assert response.status_code == 409
    page = parse(response)
    assert field_errors(page, "book-start_at") == [
        "That time is already booked. Choose one of the open times."
    ]
    values = [r["value"] for r in page.find_all("input", name="start_at")]
    assert values[0] == "2026-12-07T09:20:00-05:00"
    assert not page.find("input", name="start_at", checked=True)
    assert list(Appointment.objects.all()) == [first]


def test_another_practices_chart_cannot_be_booked(staff_client, now, other_practice, provider,
                                                   follow_up, hours):  # fmt: skip
    theirs = factories.make_patient(other_practice)

    response = _post_book(staff_client, theirs, provider, follow_up, at(TUESDAY, 10, 20))

    assert response.status_code == 404
    assert not Appointment.objects.exists()


# --- One appointment ----------------------------------------------------------------------------


def appointment_url(appointment, name="appointment"):
    return reverse(f"scheduling:{name}", args=[appointment.public_id])


def test_the_appointment_page_shows_its_details_and_is_an_audited_read_of_the_patient(
    staff_client, booked, patient, staff
):
    response = staff_client.get(appointment_url(booked))

    assert response.status_code == 200
    page = parse(response)
    facts = dict(
        zip(
            [dt_.text for dt_ in page.find_all("dt")],
            [dd.text for dd in page.find_all("dd")],
            strict=True,
        )
    )
    assert facts["Patient"].startswith(patient.display_name)
    assert facts["When"] == "Monday, December 7, 2026, 9:20 AM – 9:40 AM EST"
    assert facts["Provider"] == "Dr. Paula Provider"
    assert facts["Visit type"] == "Follow-up"
    assert facts["Status"].endswith("Confirmed")
    assert facts["Reason for visit"] == "Cough"
    assert page.one("a", text=patient.display_name)["href"] == reverse(
        "charts:chart", args=[patient.public_id]
    )
    event = AuditEvent.objects.get(action="appointment.view")
    assert event.actor == staff and event.patient == patient
    # On its day, before the visit: arrived, completed and no-show apply.
    assert [b.text for b in page.find("section", aria_labelledby="mark-heading").find_all(
        "button")] == ["Mark arrived", "Mark completed", "Mark no-show"]  # fmt: skip


def test_an_appointment_of_a_later_day_offers_no_marks(
    staff_client, now, staff, patient, provider, follow_up, hours
):
    later = book(staff, patient, provider, follow_up, at(TUESDAY, 9, 0))

    page = parse(staff_client.get(appointment_url(later)))

    assert page.find("section", aria_labelledby="mark-heading") is None


def test_moving_to_a_date_and_time_from_the_page(staff_client, booked):
    response = staff_client.post(
        appointment_url(booked, "move"),
        {
            "provider": str(booked.provider.public_id),
            "visit_type": str(booked.appointment_type.public_id),
            "date": "2026-12-08",
            "time": "14:00",
        },
    )

    assert response.status_code == 302
    booked.refresh_from_db()
    assert booked.start_at == at(TUESDAY, 14, 0) and booked.sequence == 1
    assert messages(parse(staff_client.get(response["Location"]))) == ["The appointment is moved."]


def test_moving_to_one_of_the_open_times_from_its_button(staff_client, booked):
    page = parse(staff_client.get(appointment_url(booked)))
    button = page.find_all("button", name="start_at")[1]
    assert button.text == "9:20 AM"  # its own time counts as free

    response = staff_client.post(
        appointment_url(booked, "move"),
        {
            "provider": str(booked.provider.public_id),
            "visit_type": str(booked.appointment_type.public_id),
            "date": "2026-12-07",
            "time": "09:20",
            "start_at": page.find_all("button", name="start_at")[0]["value"],
        },
    )

    assert response.status_code == 302
    booked.refresh_from_db()
    assert booked.start_at == at(MONDAY, 9, 0)


def test_moving_onto_a_taken_time_answers_409_and_the_appointment_stays(
    staff_client, booked, staff, practice, follow_up
):
    other = book(staff, factories.make_patient(practice), booked.provider, follow_up,
                 at(TUESDAY, 9, 0))  # fmt: skip

    response = staff_client.post(
        appointment_url(booked, "move"),
        {"provider": str(booked.provider.public_id), "date": "2026-12-08", "time": "09:10"},
    )

    assert response.status_code == 409
    assert field_errors(parse(response), "move-time") == [
        "That time is already booked. Choose one of the open times."
    ]
    booked.refresh_from_db()
    assert booked.start_at == at(MONDAY, 9, 20) and other.start_at == at(TUESDAY, 9, 0)


def test_moving_outside_hours_or_without_a_time_is_refused(staff_client, booked):
    url = appointment_url(booked, "move")

    outside = staff_client.post(url, {"date": "2026-12-08", "time": "19:00"})
    assert outside.status_code == 400
    assert field_errors(parse(outside), "move-time") == [
        "This time is outside Dr. Paula Provider's working hours."
    ]
    empty = staff_client.post(url, {"date": "", "time": ""})
    assert empty.status_code == 400
    assert field_errors(parse(empty), "move-time") == [
        "Enter a date and a time, or choose one of the open times."
    ]
    booked.refresh_from_db()
    assert booked.start_at == at(MONDAY, 9, 20) and booked.sequence == 0


def test_cancelling_needs_a_reason_and_then_cancels(staff_client, booked):
    url = appointment_url(booked, "cancel")

    refused = staff_client.post(url, {"reason": " "})
    assert refused.status_code == 400
    assert field_errors(parse(refused), "cancel-reason") == [
        "Say why the appointment is cancelled."
    ]
    booked.refresh_from_db()
    assert booked.status == AppointmentStatus.BOOKED

    response = staff_client.post(url, {"reason": "Feeling better"})
    assert response.status_code == 302
    booked.refresh_from_db()
    assert booked.status == AppointmentStatus.CANCELLED
    assert booked.cancel_reason == "Feeling better"
    page = parse(staff_client.get(response["Location"]))
    assert messages(page) == ["The appointment is cancelled."]
    assert page.find("section", aria_labelledby="move-heading") is None


def test_a_completed_appointment_cannot_be_cancelled_or_moved_and_the_page_says_why(
    staff_client, booked, staff
):
    services.appointment_mark(staff, appointment=booked, status=AppointmentStatus.FULFILLED)

    cancel = staff_client.post(appointment_url(booked, "cancel"), {"reason": "Oops"})
    move = staff_client.post(
        appointment_url(booked, "move"), {"date": "2026-12-08", "time": "9:00"}
    )

    assert cancel.status_code == 400 and move.status_code == 400
    assert parse(cancel).one("div", class_="errors").text == (
        "Only a pending, tentative or confirmed appointment can be cancelled."
    )
    assert parse(move).one("div", class_="errors").text == (
        "Only a pending, tentative or confirmed appointment can be moved."
    )
    booked.refresh_from_db()
    assert booked.status == AppointmentStatus.FULFILLED and booked.start_at == at(MONDAY, 9, 20)


def test_marking_arrived_then_completed_from_the_page(staff_client, booked):
    url = appointment_url(booked, "mark")

    assert staff_client.post(url, {"status": "arrived"}).status_code == 302
    booked.refresh_from_db()
    assert booked.status == AppointmentStatus.ARRIVED
    page = parse(staff_client.get(appointment_url(booked)))
    assert [b.text for b in page.find("section", aria_labelledby="mark-heading").find_all(
        "button")] == ["Mark completed"]  # fmt: skip

    assert staff_client.post(url, {"status": "fulfilled"}).status_code == 302
    booked.refresh_from_db()
    assert booked.status == AppointmentStatus.FULFILLED


def test_a_mark_that_does_not_apply_is_refused_with_a_message(staff_client, booked):
    response = staff_client.post(appointment_url(booked, "mark"), {"status": "cancelled"})

    assert response.status_code == 400
    assert "Choose arrived, completed or no-show." in parse(response).text
    booked.refresh_from_db()
    assert booked.status == AppointmentStatus.BOOKED


def test_move_cancel_and_mark_answer_405_to_a_get(staff_client, booked):
    for name in ("move", "cancel", "mark"):
        assert staff_client.get(appointment_url(booked, name)).status_code == 405
    booked.refresh_from_db()
    assert booked.status == AppointmentStatus.BOOKED and booked.sequence == 0


def test_form_errors_of_the_appointment_page_are_listed(staff_client, booked):
    response = staff_client.post(appointment_url(booked, "move"), {"provider": "someone"})

    assert response.status_code == 400
    page = parse(response)
    assert field_errors(page, "move-provider") == ["Choose a provider of this practice."]
    assert form_errors(page) == []
