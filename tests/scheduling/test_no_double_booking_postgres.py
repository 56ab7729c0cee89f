"""SPEC §8.8 on PostgreSQL: the database itself refuses overlapping appointments of a provider
(exclusion constraint), and of many simultaneous bookings of one time exactly one wins."""

import datetime as dt
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, connections, transaction

from portico.scheduling.models import Appointment, AppointmentStatus
from portico.scheduling.services import TAKEN_CODE, appointment_book
from tests import factories
from tests.scheduling.conftest import NOW, at

TUESDAY = NOW.date() + dt.timedelta(days=1)

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the exclusion constraint is PostgreSQL's"
)


@postgres_only
@pytest.mark.django_db
def test_the_database_refuses_an_overlapping_row_written_past_the_services(now, patient, provider):
    def row(start, end, status=AppointmentStatus.BOOKED):
        return Appointment.objects.create(
            practice=patient.practice,
            patient=patient,
            provider=provider,
            start_at=start,
            end_at=end,
            status=status,
        )

    row(at(TUESDAY, 9), at(TUESDAY, 9, 30))
    row(at(TUESDAY, 9, 30), at(TUESDAY, 10))  # touching is fine
    row(at(TUESDAY, 9), at(TUESDAY, 9, 30), status=AppointmentStatus.CANCELLED)  # frees time
    with pytest.raises(IntegrityError, match="appointment_no_overlap"), transaction.atomic():
        row(at(TUESDAY, 9, 15), at(TUESDAY, 9, 45))


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_of_forty_simultaneous_bookings_of_one_time_exactly_one_wins(
    now, practice, provider, follow_up, hours
):
    staff = factories.make_staff(practice)
    patients = [factories.make_patient(practice) for _ in range(40)]
    barrier = threading.Barrier(len(patients))
    outcomes: list[str] = []

    def attempt(patient):
        try:
            barrier.wait()
            appointment_book(
                staff,
                patient=patient,
                provider=provider,
                appointment_type=follow_up,
                start_at=at(TUESDAY, 9),
            )
            outcomes.append("booked")
        except ValidationError as exc:
            outcomes.append(exc.error_dict["start_at"][0].code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt, args=(p,)) for p in patients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["booked"] + [TAKEN_CODE] * 39
    assert Appointment.objects.filter(provider=provider).count() == 1
