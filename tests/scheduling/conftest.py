"""A practice with a schedule: visit types, a provider's working week, and a fixed "now"."""

import datetime as dt
import zoneinfo

import pytest
import time_machine

from portico.scheduling.calendar import Stretch
from portico.scheduling.services import visit_type_save, working_hours_set

NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
# A Monday morning, before the provider's day starts.
NOW = dt.datetime(2026, 12, 7, 7, 30, tzinfo=NEW_YORK)


@pytest.fixture
def now():
    with time_machine.travel(NOW, tick=False):
        yield NOW


@pytest.fixture
def follow_up(admin, practice):
    return visit_type_save(admin, practice=practice, name="Follow-up", duration_minutes=20)


@pytest.fixture
def new_patient_visit(admin, practice):
    return visit_type_save(admin, practice=practice, name="New patient", duration_minutes=40)


def weekdays(*stretches):
    """Monday to Friday, each with the given (start, end) local times."""
    return [
        Stretch(day, dt.time(*start), dt.time(*end)) for day in range(5) for start, end in stretches
    ]


@pytest.fixture
def hours(admin, practice, provider):
    """The provider works Monday to Friday 9–12 and 13–17 (New York time)."""
    return working_hours_set(
        admin,
        practice=practice,
        provider=provider,
        stretches=weekdays(((9, 0), (12, 0)), ((13, 0), (17, 0))),
    )


def at(day: dt.date, hour: int, minute: int = 0, zone=NEW_YORK) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=zone)
