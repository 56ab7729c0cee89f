"""The portal's Appointments tab (SPEC §8.6): upcoming and past appointments, reschedule and
cancel requests under the practice's cancellation policy, taking back a request, answering a
time the practice proposed. Only a patient with active portal access, only their own chart.

Time stands still on Monday 2026-12-07 07:30 in New York (the practice's time zone); the
provider works Monday to Friday 9–12 and 13–17."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from portico.audit.models import AuditEvent
from portico.booking import services
from portico.booking.models import AppointmentRequest, RequestKind, RequestStatus
from portico.booking.patient_tab import PAST_PAGE_SIZE
from portico.portal import services as portal
from portico.practices.models import CancellationApproval
from portico.scheduling import services as scheduling
from portico.scheduling.models import Appointment, AppointmentStatus
from tests import factories
from tests.booking.conftest import NEW_YORK, at
from tests.factories import sign_in

pytestmark = pytest.mark.django_db

MONDAY = dt.date(2026, 12, 7)
TUESDAY = MONDAY + dt.timedelta(days=1)
WEDNESDAY = MONDAY + dt.timedelta(days=2)
THURSDAY = MONDAY + dt.timedelta(days=3)
LAST_WEEK = MONDAY - dt.timedelta(days=7)
NO_ACCESS = "Ask your doctor to provide access to your health records."
RESPONSIBLE = (
    "You are responsible for your original appointment until the reschedule request is confirmed."
)


@pytest.fixture
def patient_client(client, enrolled, profile):
    sign_in(client, enrolled)
    return client


def url(name: str, access, *args) -> str:
    return reverse(f"booking:{name}", args=[access.public_id, *args])


def book(admin, patient, provider, follow_up, start, **more) -> Appointment:
    """A confirmed appointment, booked by the practice."""
    return scheduling.appointment_book(
        admin,
        patient=patient,
        provider=provider,
        appointment_type=follow_up,
        start_at=start,
        reason="Knee pain",
        **more,
    )


def past(admin, patient, provider, follow_up, start, status) -> Appointment:
    """A visit that already happened, marked by the front desk (or cancelled)."""
    appointment = book(admin, patient, provider, follow_up, start, allow_past=True, notify=False)
    if status == AppointmentStatus.CANCELLED:
        return scheduling.appointment_cancel(
            admin, appointment=appointment, reason="Clinic closed", notify=False
        )
    return scheduling.appointment_mark(admin, appointment=appointment, status=status)


def reschedule_request(enrolled, access, appointment, start, note="") -> AppointmentRequest:
    return services.reschedule_request(
        enrolled, access=access, appointment=appointment, start_at=start, note=note
    )


def new_request(profile, follow_up, patient, start) -> AppointmentRequest:
    """A request for a new appointment that is the chart's (as a portal request is from the
    start), still waiting for the practice."""
    request = services.request_submit(
        profile=profile,
        visit_type=follow_up,
        start_at=start,
        patient_kind="existing",
        first_name=patient.legal_first_name,
        last_name=patient.legal_last_name,
        date_of_birth=patient.date_of_birth,
        email=patient.email,
        reason="Check-up",
    )
    AppointmentRequest.objects.filter(pk=request.pk).update(patient=patient)
    request.refresh_from_db()
    return request


def proposed(admin, profile, follow_up, patient, asked, proposed_at) -> Appointment:
    """A new-appointment request the practice answered with another time (Tentative)."""
    request = services.request_submit(
        profile=profile,
        visit_type=follow_up,
        start_at=asked,
        patient_kind="existing",
        first_name="Robin",
        last_name="Tester",
        date_of_birth=dt.date(1980, 4, 21),
        email=patient.email,
        reason="Check-up",
    )
    return services.request_propose(
        admin,
        request=request,
        start_at=proposed_at,
        reason="The doctor is away that morning",
        message="Does the afternoon suit you?",
        patient=patient,
    )


def set_policy(practice, approval=CancellationApproval.NONE, approval_days=None, notice_days=None):
    practice.cancellation_approval = approval
    practice.cancellation_approval_days = approval_days
    practice.cancellation_notice_days = notice_days
    practice.save()


def section(html: str, heading: str) -> str:
    """The part of the page from the heading with this id to the next section."""
    start = html.index(f'id="{heading}"')
    end = html.find("</section>", start)
    return html[start:end]


def reads(page: str) -> int:
    return AuditEvent.objects.filter(action="phr.view", details__page=page).count()


# --- Who may see and do this ---------------------------------------------------------------------


def test_a_revoked_patient_gets_the_access_error_on_every_page_and_nothing_changes(
    patient_client, enrolled, access, admin, patient, provider, follow_up, profile
):
    confirmed = book(admin, patient, provider, follow_up, at(TUESDAY, 9))
    tentative = proposed(admin, profile, follow_up, patient, at(WEDNESDAY, 9), at(WEDNESDAY, 14))
    waiting = new_request(profile, follow_up, patient, at(THURSDAY, 9))
    portal.access_revoke(admin, patient=patient)
    enrolled.refresh_from_db()  # revoking ended the account's sessions
    sign_in(patient_client, enrolled)
    before = AuditEvent.objects.filter(action="phr.view").count()
    pages = [
        ("get", url("patient_appointments", access), {}),
        ("get", url("patient_reschedule", access, confirmed.public_id), {}),
        (
            "post",
            url("patient_reschedule", access, confirmed.public_id),
            {"start_at": at(TUESDAY, 10).isoformat()},
        ),
        ("get", url("patient_cancel", access, confirmed.public_id), {}),
        ("post", url("patient_cancel", access, confirmed.public_id), {"reason": "better"}),
        ("post", url("patient_cancel", access, tentative.public_id), {}),
        ("post", url("patient_accept", access, tentative.public_id), {}),
        ("get", url("patient_withdraw", access, waiting.public_id), {}),
        ("post", url("patient_withdraw", access, waiting.public_id), {"answer": "cancel"}),
    ]
    for method, address, data in pages:
        response = getattr(patient_client, method)(address, data)
        assert response.status_code == 403, address
        assert NO_ACCESS in response.content.decode(), address

    assert AuditEvent.objects.filter(action="phr.view").count() == before
    assert Appointment.objects.get(pk=confirmed.pk).status == AppointmentStatus.BOOKED
    assert Appointment.objects.get(pk=tentative.pk).status == AppointmentStatus.PROPOSED
    assert AppointmentRequest.objects.get(pk=waiting.pk).status == RequestStatus.PENDING
    assert not AppointmentRequest.objects.filter(kind__in=["reschedule", "cancel"]).exists()


def test_another_charts_appointment_or_request_is_a_404(
    patient_client, access, admin, practice, provider, follow_up, profile
):
    other = factories.make_patient(practice)
    theirs = book(admin, other, provider, follow_up, at(TUESDAY, 9))
    their_request = new_request(profile, follow_up, other, at(WEDNESDAY, 9))

    for address in (
        url("patient_reschedule", access, theirs.public_id),
        url("patient_cancel", access, theirs.public_id),
        url("patient_withdraw", access, their_request.public_id),
    ):
        assert patient_client.get(address).status_code == 404
    assert patient_client.post(url("patient_accept", access, theirs.public_id)).status_code == 404
    assert (
        patient_client.post(
            url("patient_cancel", access, theirs.public_id), {"reason": "better"}
        ).status_code
        == 404
    )
    assert Appointment.objects.get(pk=theirs.pk).status == AppointmentStatus.BOOKED
    assert AppointmentRequest.objects.get(pk=their_request.pk).status == RequestStatus.PENDING


def test_accepting_is_a_post_only(patient_client, access, admin, profile, follow_up, patient):
    tentative = proposed(admin, profile, follow_up, patient, at(WEDNESDAY, 9), at(WEDNESDAY, 14))

    assert patient_client.get(url("patient_accept", access, tentative.public_id)).status_code == 405
    assert Appointment.objects.get(pk=tentative.pk).status == AppointmentStatus.PROPOSED


def test_each_page_is_an_audited_read_of_the_record(
    patient_client, access, enrolled, admin, patient, provider, follow_up, profile
):
    confirmed = book(admin, patient, provider, follow_up, at(TUESDAY, 9))
    waiting = new_request(profile, follow_up, patient, at(THURSDAY, 9))

    for address, page in (
        (url("patient_appointments", access), "appointments"),
        (url("patient_reschedule", access, confirmed.public_id), "appointment reschedule"),
        (url("patient_cancel", access, confirmed.public_id), "appointment cancel"),
        (url("patient_withdraw", access, waiting.public_id), "appointment request withdraw"),
    ):
        assert patient_client.get(address).status_code == 200
        event = AuditEvent.objects.filter(action="phr.view", details__page=page).get()
        assert event.actor == enrolled and event.patient == patient
    assert AuditEvent.objects.get(details__page="appointment cancel").details["appointment"] == str(
        confirmed.public_id
    )


def test_the_record_menu_links_the_appointments_tab(patient_client, access):
    response = patient_client.get(reverse("records:record", args=[access.public_id]))
    assert url("patient_appointments", access) in response.content.decode()


# --- The list ------------------------------------------------------------------------------------


def test_upcoming_lists_pending_tentative_and_confirmed_and_past_lists_the_rest(
    patient_client, access, admin, patient, provider, follow_up, profile
):
    confirmed = book(admin, patient, provider, follow_up, at(TUESDAY, 9))
    tentative = proposed(admin, profile, follow_up, patient, at(WEDNESDAY, 9), at(WEDNESDAY, 14))
    waiting = new_request(profile, follow_up, patient, at(THURSDAY, 9))
    completed = past(
        admin, patient, provider, follow_up, at(LAST_WEEK, 9), AppointmentStatus.FULFILLED
    )
    cancelled = past(
        admin, patient, provider, follow_up, at(LAST_WEEK, 10), AppointmentStatus.CANCELLED
    )
    missed = past(admin, patient, provider, follow_up, at(LAST_WEEK, 11), AppointmentStatus.NOSHOW)

    html = patient_client.get(url("patient_appointments", access)).content.decode()

    upcoming, past_part = section(html, "upcoming-heading"), section(html, "past-heading")
    for label in ("Confirmed", "Tentative", "Pending"):
        assert label in upcoming
    for label in ("Completed", "Cancelled", "No-show"):
        assert label in past_part and label not in upcoming
    # Soonest first above; newest first below.
    assert upcoming.index("Tuesday") < upcoming.index("Wednesday") < upcoming.index("Thursday")
    assert past_part.index("11:00 AM") < past_part.index("10:00 AM") < past_part.index("9:00 AM")
    # A confirmed appointment: reschedule, cancel and its calendar file.
    assert url("patient_reschedule", access, confirmed.public_id) in upcoming
    assert url("patient_cancel", access, confirmed.public_id) in upcoming
    assert (
        reverse("records:appointment_calendar", args=[access.public_id, confirmed.public_id])
        in upcoming
    )
    # The proposed time: accept, or decline (through the cancel page), with the message.
    assert url("patient_accept", access, tentative.public_id) in upcoming
    assert url("patient_cancel", access, tentative.public_id) in upcoming
    assert "Does the afternoon suit you?" in upcoming
    assert url("patient_reschedule", access, tentative.public_id) not in upcoming
    # The request still waiting: it can be taken back.
    assert url("patient_withdraw", access, waiting.public_id) in upcoming
    for gone in (completed, cancelled, missed):
        assert url("patient_cancel", access, gone.public_id) not in html


def test_times_show_in_the_practices_time_zone(
    patient_client, access, admin, patient, provider, follow_up
):
    book(admin, patient, provider, follow_up, at(TUESDAY, 9))  # 14:00 UTC

    html = section(
        patient_client.get(url("patient_appointments", access)).content.decode(),
        "upcoming-heading",
    )

    assert "9:00 AM" in html and "2:00 PM" not in html
    assert 'datetime="2026-12-08T09:00:00-05:00"' in html


def test_past_appointments_come_a_page_at_a_time_newest_first(
    patient_client, access, admin, patient, provider, follow_up
):
    first_day = LAST_WEEK - dt.timedelta(days=7)
    for i in range(PAST_PAGE_SIZE + 2):
        day = first_day + dt.timedelta(days=i // 8)
        start = at(day, 9) + dt.timedelta(minutes=20 * (i % 8))
        if day.weekday() < 5:
            past(admin, patient, provider, follow_up, start, AppointmentStatus.FULFILLED)
    count = Appointment.objects.count()
    assert count > PAST_PAGE_SIZE

    first = patient_client.get(url("patient_appointments", access))
    second = patient_client.get(url("patient_appointments", access), {"page": 2})

    assert first.context["page"].paginator.count == count
    assert len(first.context["past"]) == PAST_PAGE_SIZE
    newest = Appointment.objects.order_by("-start_at").first()
    assert first.context["past"][0] == newest
    assert len(second.context["past"]) == count - PAST_PAGE_SIZE
    assert "Older" in first.content.decode()


def test_the_list_reads_a_fixed_number_of_queries_whatever_the_number_of_appointments(
    patient_client, access, enrolled, admin, patient, provider, follow_up, profile
):
    def fill(n: int, first_day: dt.date) -> None:
        """n appointments from first_day on, of every kind the tab shows."""
        for i in range(n):
            day = first_day + dt.timedelta(days=i // 6)
            if day.weekday() >= 5:
                day += dt.timedelta(days=2)
            start = at(day, 9) + dt.timedelta(minutes=20 * (i % 6))
            kind = i % 5
            if kind == 0:
                past(admin, patient, provider, follow_up, start - dt.timedelta(days=28),
                     AppointmentStatus.FULFILLED)  # fmt: skip
            elif kind == 1:
                a = book(admin, patient, provider, follow_up, start)
                reschedule_request(enrolled, access, a, start + dt.timedelta(hours=4))
            elif kind == 2:
                proposed(admin, profile, follow_up, patient, start, start + dt.timedelta(hours=4))
            elif kind == 3:
                new_request(profile, follow_up, patient, start)
            else:
                book(admin, patient, provider, follow_up, start)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            response = patient_client.get(url("patient_appointments", access))
        assert response.status_code == 200
        return len(queries)

    fill(3, TUESDAY)
    count()  # the first page of a session also reads what the session keeps once
    few = count()
    fill(17, TUESDAY + dt.timedelta(days=7))
    assert Appointment.objects.filter(patient=patient).count() >= 15
    assert count() == few


# --- Reschedule ----------------------------------------------------------------------------------


def test_the_reschedule_page_offers_the_providers_open_times_and_the_responsibility_sentence(
    patient_client, access, admin, patient, provider, follow_up
):
    confirmed = book(admin, patient, provider, follow_up, at(TUESDAY, 9))

    response = patient_client.get(url("patient_reschedule", access, confirmed.public_id))

    html = response.content.decode()
    assert RESPONSIBLE in html
    assert "Request to reschedule" in html
    assert f'value="{at(TUESDAY, 9, 20).isoformat()}"' in html
    # Its own time is the time it has; lunch is not open.
    assert f'value="{at(TUESDAY, 9).isoformat()}"' not in html
    assert f'value="{at(TUESDAY, 12, 20).isoformat()}"' not in html
    # The next 28 days, not more.
    last = MONDAY + dt.timedelta(days=services.BOOKING_DAYS - 1)
    while last.weekday() >= 5:
        last -= dt.timedelta(days=1)
    assert f'value="{at(last, 9).isoformat()}"' in html
    assert f'value="{at(last + dt.timedelta(days=7), 9).isoformat()}"' not in html


def test_a_reschedule_request_leaves_the_original_confirmed_and_shows_it_waiting(
    patient_client, access, admin, patient, provider, follow_up
):
    confirmed = book(admin, patient, provider, follow_up, at(TUESDAY, 9))

    response = patient_client.post(
        url("patient_reschedule", access, confirmed.public_id),
        {"start_at": at(WEDNESDAY, 14).isoformat(), "note": "Afternoons are easier."},
    )

    assert response.status_code == 302
    assert Appointment.objects.get(pk=confirmed.pk).status == AppointmentStatus.BOOKED
    assert Appointment.objects.get(pk=confirmed.pk).start_at == at(TUESDAY, 9)
    request = AppointmentRequest.objects.get(kind=RequestKind.RESCHEDULE)
    assert request.status == RequestStatus.PENDING and request.original == confirmed
    assert request.start_at == at(WEDNESDAY, 14) and request.note == "Afternoons are easier."
    html = section(patient_client.get(response["Location"]).content.decode(), "upcoming-heading")
    assert "Waiting for the practice: reschedule to" in html
    assert "2:00 PM" in html and RESPONSIBLE in html
    assert url("patient_withdraw", access, request.public_id) in html
    # No second request while this one waits.
    assert url("patient_reschedule", access, confirmed.public_id) not in html
    assert url("patient_cancel", access, confirmed.public_id) not in html


@pytest.mark.parametrize(
    "value",
    [
        "",
        "next tuesday",
        "2026-12-08T12:20:00-05:00",  # lunch: not an open time
        "2026-12-04T09:00:00-05:00",  # passed
    ],
)
def test_a_reschedule_to_no_open_time_is_refused_and_changes_nothing(
    patient_client, access, admin, patient, provider, follow_up, value
):
    confirmed = book(admin, patient, provider, follow_up, at(TUESDAY, 9))

    response = patient_client.post(
        url("patient_reschedule", access, confirmed.public_id), {"start_at": value}
    )

    assert response.status_code == 400
    assert 'role="alert"' in response.content.decode()
    assert not AppointmentRequest.objects.filter(kind=RequestKind.RESCHEDULE).exists()
    assert Appointment.objects.get(pk=confirmed.pk).start_at == at(TUESDAY, 9)


def test_a_time_taken_since_the_page_was_drawn_is_refused(
    patient_client, access, admin, patient, provider, follow_up, practice
):
    confirmed = book(admin, patient, provider, follow_up, at(TUESDAY, 9))
    book(admin, factories.make_patient(practice), provider, follow_up, at(WEDNESDAY, 14))

    response = patient_client.post(
        url("patient_reschedule", access, confirmed.public_id),
        {"start_at": at(WEDNESDAY, 14).isoformat()},
    )

    assert response.status_code == 400
    assert "That time is no longer open." in response.content.decode()
    assert not AppointmentRequest.objects.exists()


# --- Cancel --------------------------------------------------------------------------------------


def test_without_approval_a_cancellation_is_done_at_once(
    patient_client, access, admin, patient, provider, follow_up, practice
):
    set_policy(practice, CancellationApproval.NONE)
    confirmed = book(admin, patient, provider, follow_up, at(TUESDAY, 9))
    page = patient_client.get(url("patient_cancel", access, confirmed.public_id))
    assert "Your appointment will be cancelled at once." in page.content.decode()

    response = patient_client.post(
        url("patient_cancel", access, confirmed.public_id), {"reason": "better"}
    )

    assert response.status_code == 302
    confirmed.refresh_from_db()
    assert confirmed.status == AppointmentStatus.CANCELLED
    assert confirmed.cancel_reason == "I feel better"
    assert not AppointmentRequest.objects.exists()


def test_when_every_cancellation_needs_approval_it_waits_for_the_practice(
    patient_client, access, admin, patient, provider, follow_up, practice
):
    set_policy(practice, CancellationApproval.ALL)
    confirmed = book(admin, patient, provider, follow_up, at(THURSDAY, 9))
    page = patient_client.get(url("patient_cancel", access, confirmed.public_id))
    assert "The practice needs to approve this cancellation." in page.content.decode()

    response = patient_client.post(
        url("patient_cancel", access, confirmed.public_id),
        {"reason": "other", "other_reason": "Moving away"},
    )

    assert response.status_code == 302
    assert Appointment.objects.get(pk=confirmed.pk).status == AppointmentStatus.BOOKED
    request = AppointmentRequest.objects.get(kind=RequestKind.CANCEL)
    assert request.status == RequestStatus.PENDING and request.reason == "Moving away"
    html = section(patient_client.get(response["Location"]).content.decode(), "upcoming-heading")
    assert "Waiting for the practice: cancellation." in html
    assert url("patient_withdraw", access, request.public_id) in html


@pytest.mark.parametrize(
    ("day", "needs_approval"),
    [(MONDAY, True), (TUESDAY, True), (WEDNESDAY, False), (THURSDAY, False)],
)
def test_within_n_days_a_cancellation_waits_for_the_practice_and_later_it_is_done_at_once(
    patient_client, access, admin, patient, provider, follow_up, practice, day, needs_approval
):
    set_policy(practice, CancellationApproval.WITHIN, approval_days=1)
    confirmed = book(admin, patient, provider, follow_up, at(day, 15))

    patient_client.post(url("patient_cancel", access, confirmed.public_id), {"reason": "time"})

    status = Appointment.objects.get(pk=confirmed.pk).status
    assert (status == AppointmentStatus.BOOKED) is needs_approval
    assert AppointmentRequest.objects.filter(kind=RequestKind.CANCEL).exists() is needs_approval


def test_the_calendar_days_are_counted_in_the_practices_time_zone(
    patient_client, access, enrolled, admin, patient, provider, follow_up, practice
):
    set_policy(practice, CancellationApproval.WITHIN, approval_days=1, notice_days=1)
    confirmed = book(admin, patient, provider, follow_up, at(WEDNESDAY, 9))
    # Monday 20:30 in New York is already Tuesday in UTC: Wednesday is still two days away.
    with time_machine.travel(dt.datetime(2026, 12, 7, 20, 30, tzinfo=NEW_YORK), tick=False):
        sign_in(patient_client, enrolled)  # a fresh session at that hour
        page = patient_client.get(url("patient_cancel", access, confirmed.public_id))
        assert "may charge you" not in page.content.decode()
        patient_client.post(url("patient_cancel", access, confirmed.public_id), {"reason": "time"})

    assert Appointment.objects.get(pk=confirmed.pk).status == AppointmentStatus.CANCELLED


@pytest.mark.parametrize(
    ("notice_days", "day", "shown"),
    [(None, MONDAY, False), (1, TUESDAY, True), (1, WEDNESDAY, False), (3, THURSDAY, True)],
)
def test_the_charge_notice_shows_before_confirming_only_within_n_days(
    patient_client, access, admin, patient, provider, follow_up, practice, notice_days, day, shown
):
    set_policy(practice, CancellationApproval.NONE, notice_days=notice_days)
    confirmed = book(admin, patient, provider, follow_up, at(day, 15))

    html = patient_client.get(url("patient_cancel", access, confirmed.public_id)).content.decode()

    assert ("may charge you" in html) is shown
    if shown:
        days = "1 calendar day" if notice_days == 1 else f"{notice_days} calendar days"
        assert f"cancelled within {days} of its date" in html
        # Before the button that confirms.
        assert html.index("may charge you") < html.index("Cancel the appointment")


@pytest.mark.parametrize(
    "data",
    [{}, {"reason": "other"}, {"reason": "other", "other_reason": "   "}, {"reason": "bored"}],
)
def test_a_cancellation_without_a_reason_is_refused_and_changes_nothing(
    patient_client, access, admin, patient, provider, follow_up, data
):
    confirmed = book(admin, patient, provider, follow_up, at(TUESDAY, 9))

    response = patient_client.post(url("patient_cancel", access, confirmed.public_id), data)

    assert response.status_code == 400
    assert 'role="alert"' in response.content.decode()
    assert Appointment.objects.get(pk=confirmed.pk).status == AppointmentStatus.BOOKED
    assert not AppointmentRequest.objects.exists()


def test_a_cancelled_appointment_cannot_be_cancelled_again(
    patient_client, access, admin, patient, provider, follow_up
):
    confirmed = book(admin, patient, provider, follow_up, at(TUESDAY, 9))
    scheduling.appointment_cancel(admin, appointment=confirmed, reason="Clinic closed")

    page = patient_client.get(url("patient_cancel", access, confirmed.public_id))
    response = patient_client.post(
        url("patient_cancel", access, confirmed.public_id), {"reason": "better"}
    )

    assert "Only an upcoming appointment can be cancelled." in page.content.decode()
    assert response.status_code == 400
    assert Appointment.objects.get(pk=confirmed.pk).cancel_reason == "Clinic closed"


# --- Taking back a request -----------------------------------------------------------------------


def test_keep_appointment_changes_nothing_and_cancel_appointment_withdraws_the_request(
    patient_client, access, admin, patient, follow_up, profile
):
    waiting = new_request(profile, follow_up, patient, at(THURSDAY, 9))
    address = url("patient_withdraw", access, waiting.public_id)

    html = patient_client.get(address).content.decode()
    assert "Keep Appointment" in html and "Cancel Appointment" in html

    kept = patient_client.post(address, {"answer": "keep"})
    assert kept.status_code == 302
    assert AppointmentRequest.objects.get(pk=waiting.pk).status == RequestStatus.PENDING

    withdrawn = patient_client.post(address, {"answer": "cancel"})
    assert withdrawn.status_code == 302
    assert AppointmentRequest.objects.get(pk=waiting.pk).status == RequestStatus.WITHDRAWN
    html = patient_client.get(withdrawn["Location"]).content.decode()
    assert "No upcoming appointments." in html
    assert AuditEvent.objects.filter(action="booking.request_withdraw").count() == 1


def test_withdrawing_a_reschedule_request_keeps_the_appointment_as_it_was(
    patient_client, access, enrolled, admin, patient, provider, follow_up
):
    confirmed = book(admin, patient, provider, follow_up, at(TUESDAY, 9))
    request = reschedule_request(enrolled, access, confirmed, at(WEDNESDAY, 14))

    response = patient_client.post(
        url("patient_withdraw", access, request.public_id), {"answer": "cancel"}
    )

    assert response.status_code == 302
    assert AppointmentRequest.objects.get(pk=request.pk).status == RequestStatus.WITHDRAWN
    confirmed.refresh_from_db()
    assert confirmed.status == AppointmentStatus.BOOKED and confirmed.start_at == at(TUESDAY, 9)
    html = section(patient_client.get(response["Location"]).content.decode(), "upcoming-heading")
    assert "Waiting for the practice" not in html
    assert url("patient_reschedule", access, confirmed.public_id) in html


def test_a_request_the_practice_answered_cannot_be_withdrawn(
    patient_client, access, enrolled, admin, patient, provider, follow_up
):
    confirmed = book(admin, patient, provider, follow_up, at(TUESDAY, 9))
    request = reschedule_request(enrolled, access, confirmed, at(WEDNESDAY, 14))
    services.request_deny(admin, request=request, reason="Fully booked")

    response = patient_client.post(
        url("patient_withdraw", access, request.public_id), {"answer": "cancel"}
    )

    assert response.status_code == 400
    assert "already answered" in response.content.decode()
    assert AppointmentRequest.objects.get(pk=request.pk).status == RequestStatus.DENIED


def test_an_unknown_answer_on_the_withdraw_page_changes_nothing(
    patient_client, access, admin, patient, follow_up, profile
):
    waiting = new_request(profile, follow_up, patient, at(THURSDAY, 9))

    response = patient_client.post(url("patient_withdraw", access, waiting.public_id), {})

    assert response.status_code == 400
    assert AppointmentRequest.objects.get(pk=waiting.pk).status == RequestStatus.PENDING


# --- A time the practice proposed ----------------------------------------------------------------


def test_accepting_a_proposed_time_confirms_it(
    patient_client, access, admin, patient, follow_up, profile
):
    tentative = proposed(admin, profile, follow_up, patient, at(WEDNESDAY, 9), at(WEDNESDAY, 14))

    response = patient_client.post(url("patient_accept", access, tentative.public_id))

    assert response.status_code == 302
    assert Appointment.objects.get(pk=tentative.pk).status == AppointmentStatus.BOOKED
    assert AppointmentRequest.objects.get(appointment=tentative).status == RequestStatus.APPROVED
    html = section(patient_client.get(response["Location"]).content.decode(), "upcoming-heading")
    assert "Confirmed" in html and "Tentative" not in html


def test_accepting_a_proposed_reschedule_cancels_the_original(
    patient_client, access, enrolled, admin, patient, provider, follow_up
):
    original = book(admin, patient, provider, follow_up, at(TUESDAY, 9))
    request = reschedule_request(enrolled, access, original, at(WEDNESDAY, 9))
    tentative = services.request_propose(
        admin, request=request, start_at=at(THURSDAY, 14), reason="Wednesday is full"
    )
    listed = section(
        patient_client.get(url("patient_appointments", access)).content.decode(),
        "upcoming-heading",
    )
    assert "It would replace your appointment on" in listed

    response = patient_client.post(url("patient_accept", access, tentative.public_id))

    assert response.status_code == 302
    assert Appointment.objects.get(pk=tentative.pk).status == AppointmentStatus.BOOKED
    assert Appointment.objects.get(pk=original.pk).status == AppointmentStatus.CANCELLED


def test_accepting_what_is_not_a_proposed_time_is_refused(
    patient_client, access, admin, patient, provider, follow_up
):
    confirmed = book(admin, patient, provider, follow_up, at(TUESDAY, 9))
    scheduling.appointment_cancel(admin, appointment=confirmed, reason="Clinic closed")

    response = patient_client.post(url("patient_accept", access, confirmed.public_id))

    assert response.status_code == 400
    assert "This appointment is not waiting for your answer." in response.content.decode()
    assert Appointment.objects.get(pk=confirmed.pk).status == AppointmentStatus.CANCELLED


def test_declining_a_proposed_reschedule_keeps_the_original(
    patient_client, access, enrolled, admin, patient, provider, follow_up
):
    original = book(admin, patient, provider, follow_up, at(TUESDAY, 9))
    request = reschedule_request(enrolled, access, original, at(WEDNESDAY, 9))
    tentative = services.request_propose(
        admin, request=request, start_at=at(THURSDAY, 14), reason="Wednesday is full"
    )
    page = patient_client.get(url("patient_cancel", access, tentative.public_id))
    assert "Decline the proposed time" in page.content.decode()

    response = patient_client.post(
        url("patient_cancel", access, tentative.public_id), {"reason": "Thursday is hard"}
    )

    assert response.status_code == 302
    tentative.refresh_from_db()
    assert tentative.status == AppointmentStatus.CANCELLED
    assert tentative.cancel_reason == "Thursday is hard"
    assert Appointment.objects.get(pk=original.pk).status == AppointmentStatus.BOOKED
    assert AppointmentRequest.objects.get(pk=request.pk).status == RequestStatus.DECLINED
