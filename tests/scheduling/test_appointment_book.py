"""The appointment book's rules (SPEC §8.4, §8.8): booking inside working hours, never twice
at one time, moving, cancelling and marking, with clear messages and nothing changed on error."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from portico.audit.models import AuditEvent
from portico.notifications.models import OutboundEmail
from portico.scheduling import services
from portico.scheduling.models import Appointment, AppointmentStatus
from portico.scheduling.services import (
    TAKEN_CODE,
    appointment_book,
    appointment_cancel,
    appointment_mark,
    appointment_move,
    blocked_time_add,
    working_hours_set,
)
from tests import factories
from tests.scheduling.conftest import NOW, at, weekdays

pytestmark = pytest.mark.django_db
MONDAY = NOW.date()
TUESDAY = MONDAY + dt.timedelta(days=1)


def book(actor, patient, provider, visit_type, start, **kw):
    return appointment_book(
        actor, patient=patient, provider=provider, appointment_type=visit_type, start_at=start, **kw
    )


def errors_of(caught) -> dict:
    return caught.value.message_dict


def test_staff_book_a_patient_in_working_hours_and_it_is_confirmed_audited_and_emailed(
    now, staff, patient, provider, follow_up, hours
):
    appointment = book(staff, patient, provider, follow_up, at(TUESDAY, 9, 20), reason="Cough")

    assert appointment.status == AppointmentStatus.BOOKED
    assert appointment.get_status_display() == "Confirmed"
    assert appointment.end_at - appointment.start_at == dt.timedelta(minutes=20)
    assert appointment.visit_type == "Follow-up" and appointment.reason == "Cough"
    event = AuditEvent.objects.get(action="appointment.create")
    assert event.patient == patient and event.actor == staff
    email = OutboundEmail.objects.get(kind="scheduling.booked")
    assert email.to_address == patient.email and email.subject_id == appointment.public_id


def test_back_to_back_appointments_that_touch_do_not_overlap(
    now, staff, patient, provider, follow_up, hours
):
    other = factories.make_patient(patient.practice)
    book(staff, patient, provider, follow_up, at(TUESDAY, 9, 0))
    book(staff, other, provider, follow_up, at(TUESDAY, 9, 20))
    book(staff, other, provider, follow_up, at(TUESDAY, 8, 40) + dt.timedelta(hours=1))

    assert Appointment.objects.count() == 3


def test_a_second_booking_of_an_overlapping_time_is_refused_and_nothing_is_stored(
    now, staff, patient, provider, follow_up, new_patient_visit, hours
):
    book(staff, patient, provider, new_patient_visit, at(TUESDAY, 10, 0))  # 10:00–10:40
    other = factories.make_patient(patient.practice)

    with pytest.raises(ValidationError) as caught:
        book(staff, other, provider, follow_up, at(TUESDAY, 10, 30))

    assert errors_of(caught)["start_at"] == [
        "That time is already booked. Choose one of the open times."
    ]
    assert caught.value.error_dict["start_at"][0].code == TAKEN_CODE
    assert Appointment.objects.count() == 1
    assert not OutboundEmail.objects.filter(patient=other).exists()


def test_a_cancelled_appointment_frees_its_time(now, staff, patient, provider, follow_up, hours):
    first = book(staff, patient, provider, follow_up, at(TUESDAY, 9, 0))
    appointment_cancel(staff, appointment=first, reason="Patient called")

    second = book(
        staff, factories.make_patient(patient.practice), provider, follow_up, at(TUESDAY, 9, 0)
    )

    assert second.status == AppointmentStatus.BOOKED


@pytest.mark.parametrize(
    "start, message",
    [
        (at(TUESDAY, 8, 50), "This time is outside Dr. Paula Provider's working hours."),
        (at(TUESDAY, 11, 50), "This time is outside Dr. Paula Provider's working hours."),
        (at(TUESDAY, 12, 0), "This time is outside Dr. Paula Provider's working hours."),
        (
            at(MONDAY + dt.timedelta(days=5), 10, 0),
            "This time is outside Dr. Paula Provider's working hours.",
        ),
        (at(MONDAY, 7, 0), "Choose a time that has not passed."),
    ],
    ids=["before the day", "runs into lunch", "at lunch", "saturday", "past"],
)
def test_bad_times_are_refused_with_a_clear_message(
    now, staff, patient, provider, follow_up, hours, start, message
):
    with pytest.raises(ValidationError) as caught:
        book(staff, patient, provider, follow_up, start)

    assert errors_of(caught)["start_at"] == [message]
    assert not Appointment.objects.exists()
    assert not AuditEvent.objects.filter(action="appointment.create").exists()


def test_blocked_times_of_the_provider_and_practice_holidays_cannot_be_booked(
    now, admin, staff, patient, provider, follow_up, hours, practice
):
    blocked_time_add(
        admin,
        practice=practice,
        provider=provider,
        start_at=at(TUESDAY, 10),
        end_at=at(TUESDAY, 11),
        label="Team meeting",
    )
    blocked_time_add(
        admin,
        practice=practice,
        start_at=at(TUESDAY + dt.timedelta(days=1), 0),
        end_at=at(TUESDAY + dt.timedelta(days=2), 0),
        label="Holiday",
    )

    with pytest.raises(ValidationError) as meeting:
        book(staff, patient, provider, follow_up, at(TUESDAY, 10, 40))
    with pytest.raises(ValidationError) as holiday:
        book(staff, patient, provider, follow_up, at(TUESDAY + dt.timedelta(days=1), 9))

    assert errors_of(meeting)["start_at"] == ["This time is blocked (Team meeting)."]
    assert errors_of(holiday)["start_at"] == ["This time is blocked (Holiday)."]
    assert not Appointment.objects.exists()


def test_an_unknown_or_other_practices_visit_type_is_refused(
    now, staff, patient, provider, hours, other_practice, outsider
):
    theirs = services.visit_type_save(
        factories.make_admin(other_practice),
        practice=other_practice,
        name="Theirs",
        duration_minutes=20,
    )
    for visit_type in (theirs, None):
        with pytest.raises(ValidationError) as caught:
            book(staff, patient, provider, visit_type, at(TUESDAY, 9))
        assert errors_of(caught)["appointment_type"] == ["Choose a visit type of this practice."]
    assert not Appointment.objects.exists()


def test_staff_of_another_practice_cannot_book_and_other_practices_providers_are_refused(
    now, staff, patient, provider, follow_up, hours, outsider
):
    with pytest.raises(PermissionDenied):
        book(outsider, patient, provider, follow_up, at(TUESDAY, 9))
    with pytest.raises(ValidationError) as caught:
        book(staff, patient, outsider, follow_up, at(TUESDAY, 9))
    assert errors_of(caught)["provider"] == ["Choose a provider of this practice."]
    assert not Appointment.objects.exists()


def test_moving_an_appointment_frees_the_old_time_and_raises_its_sequence(
    now, staff, patient, provider, follow_up, hours
):
    appointment = book(staff, patient, provider, follow_up, at(TUESDAY, 9))
    moved = appointment_move(staff, appointment=appointment, start_at=at(TUESDAY, 14))

    assert moved.start_at == at(TUESDAY, 14) and moved.end_at == at(TUESDAY, 14, 20)
    assert moved.sequence == 1
    assert OutboundEmail.objects.filter(kind="scheduling.moved").count() == 1
    assert AuditEvent.objects.get(action="appointment.move").patient == patient
    book(staff, factories.make_patient(patient.practice), provider, follow_up, at(TUESDAY, 9))


def test_moving_onto_a_taken_time_is_refused_and_the_appointment_stays(
    now, staff, patient, provider, follow_up, hours
):
    appointment = book(staff, patient, provider, follow_up, at(TUESDAY, 9))
    book(staff, factories.make_patient(patient.practice), provider, follow_up, at(TUESDAY, 14))

    with pytest.raises(ValidationError) as caught:
        appointment_move(staff, appointment=appointment, start_at=at(TUESDAY, 14, 10))

    assert caught.value.error_dict["start_at"][0].code == TAKEN_CODE
    appointment.refresh_from_db()
    assert appointment.start_at == at(TUESDAY, 9) and appointment.sequence == 0


def test_moving_within_its_own_time_is_allowed(now, staff, patient, provider, follow_up, hours):
    appointment = book(staff, patient, provider, follow_up, at(TUESDAY, 9))
    moved = appointment_move(staff, appointment=appointment, start_at=at(TUESDAY, 9, 10))
    assert moved.start_at == at(TUESDAY, 9, 10)


def test_cancelling_needs_a_reason_and_happens_once(
    now, staff, patient, provider, follow_up, hours
):
    appointment = book(staff, patient, provider, follow_up, at(TUESDAY, 9))
    with pytest.raises(ValidationError) as caught:
        appointment_cancel(staff, appointment=appointment, reason="  ")
    assert errors_of(caught)["reason"] == ["Say why the appointment is cancelled."]

    appointment_cancel(staff, appointment=appointment, reason="Patient is travelling")
    appointment_cancel(staff, appointment=appointment, reason="Again")

    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CANCELLED
    assert appointment.cancel_reason == "Patient is travelling" and appointment.sequence == 1
    assert OutboundEmail.objects.filter(kind="scheduling.cancelled").count() == 1
    with pytest.raises(ValidationError):
        appointment_move(staff, appointment=appointment, start_at=at(TUESDAY, 10))


def test_arrived_completed_and_no_show_are_marked_from_the_appointments_day(
    staff, patient, provider, follow_up, hours
):
    import time_machine

    with time_machine.travel(NOW, tick=False):
        early = book(staff, patient, provider, follow_up, at(TUESDAY, 9))
        late = book(staff, patient, provider, follow_up, at(TUESDAY, 10))
        with pytest.raises(ValidationError) as caught:
            appointment_mark(staff, appointment=early, status=AppointmentStatus.ARRIVED)
        assert errors_of(caught)["status"] == [
            "This can be marked on the day of the appointment or later."
        ]
    with time_machine.travel(at(TUESDAY, 8, 55), tick=False):
        appointment_mark(staff, appointment=early, status=AppointmentStatus.ARRIVED)
        appointment_mark(staff, appointment=early, status=AppointmentStatus.FULFILLED)
        appointment_mark(staff, appointment=late, status=AppointmentStatus.NOSHOW)
        with pytest.raises(ValidationError) as caught:
            appointment_mark(staff, appointment=late, status=AppointmentStatus.ARRIVED)
        assert errors_of(caught)["status"] == ["A no-show appointment cannot be marked arrived."]

    early.refresh_from_db()
    late.refresh_from_db()
    assert early.get_status_display() == "Completed" and late.get_status_display() == "No-show"
    assert AuditEvent.objects.filter(action="appointment.status").count() == 3


def test_a_provider_sets_their_own_hours_but_not_a_colleagues_and_staff_set_none(
    practice, admin, staff, provider
):
    colleague = factories.make_staff(practice, role="provider", credential="NP")
    week = weekdays(((8, 0), (12, 0)))

    working_hours_set(provider, practice=practice, provider=provider, stretches=week)
    with pytest.raises(PermissionDenied):
        working_hours_set(provider, practice=practice, provider=colleague, stretches=week)
    with pytest.raises(PermissionDenied):
        working_hours_set(staff, practice=practice, provider=provider, stretches=week)
    working_hours_set(admin, practice=practice, provider=colleague, stretches=week)


def test_working_hours_that_end_before_they_start_or_overlap_are_refused(admin, practice, provider):
    from portico.scheduling.calendar import Stretch

    with pytest.raises(ValidationError) as caught:
        working_hours_set(
            admin,
            practice=practice,
            provider=provider,
            stretches=[
                Stretch(0, dt.time(12), dt.time(9)),
                Stretch(1, dt.time(9), dt.time(12)),
                Stretch(1, dt.time(11), dt.time(13)),
            ],
        )
    assert errors_of(caught) == {
        "stretches.0": ["The end time must be after the start time."],
        "stretches.2": ["This overlaps other hours on the same day."],
    }


def test_a_blocked_time_that_ends_before_it_starts_is_refused(admin, practice, provider, now):
    with pytest.raises(ValidationError) as caught:
        blocked_time_add(
            admin,
            practice=practice,
            provider=provider,
            start_at=at(TUESDAY, 11),
            end_at=at(TUESDAY, 10),
        )
    assert errors_of(caught) == {"end_at": ["The end must be after the start."]}


def test_visit_type_lengths_are_checked(admin, practice):
    for bad in ("", "abc", 0, 4, 481):
        with pytest.raises(ValidationError) as caught:
            services.visit_type_save(admin, practice=practice, name="Quick", duration_minutes=bad)
        assert errors_of(caught) == {"duration_minutes": ["Enter a length from 5 to 480 minutes."]}


class Deadlock(Exception):
    """What psycopg raises when PostgreSQL aborts one of two simultaneous inserts that wait for
    each other under the exclusion constraint."""

    sqlstate = "40P01"


@pytest.mark.parametrize("taken", [False, True], ids=["free", "taken-by-the-winner"])
def test_a_save_the_database_aborted_to_break_a_deadlock_is_tried_again(
    now, staff, patient, provider, follow_up, hours, monkeypatch, taken
):
    from django.db import OperationalError, connection

    if taken:
        if connection.vendor != "postgresql":
            pytest.skip("only PostgreSQL's exclusion constraint refuses the retry")
        # The winner committed while this booking waited.
        book(staff, factories.make_patient(patient.practice), provider, follow_up, at(TUESDAY, 9))
    real_save = Appointment.save
    aborted = []

    def save(self, *args, **kwargs):
        if len(aborted) < 2:
            aborted.append(1)
            raise OperationalError("deadlock detected") from Deadlock()
        return real_save(self, *args, **kwargs)

    monkeypatch.setattr(Appointment, "save", save)
    monkeypatch.setattr(services, "_refuse_overlap", lambda *a, **k: None)  # both passed it
    if taken:
        with pytest.raises(ValidationError) as caught:
            book(staff, patient, provider, follow_up, at(TUESDAY, 9))
        assert caught.value.error_dict["start_at"][0].code == TAKEN_CODE
    else:
        book(staff, patient, provider, follow_up, at(TUESDAY, 9))
    assert len(aborted) == 2
    assert Appointment.objects.filter(provider=provider).count() == 1
