"""The bench's bulk online profiles (portico.demo.bulk_profiles) are what the services would
let the public see: the public ones pass every condition of the checklist and no other does;
their schedules are books the services would accept (no overlap of held time, inside working
hours, outside blocked times), with open times left to offer."""

import datetime as dt
import zoneinfo

import pytest

from portico.booking import selectors
from portico.booking.models import ProviderProfile
from portico.booking.npi import is_valid_npi
from portico.demo import bulk_profiles as bp
from portico.practices.models import Membership
from portico.scheduling import calendar
from portico.scheduling import selectors as scheduling_selectors
from portico.scheduling.models import HOLDS_TIME, Appointment, BlockedTime, WorkingHours

NOW = dt.datetime(2026, 12, 9, 15, 0, tzinfo=dt.UTC)  # a Wednesday
PREFIX = "bulk-public-"


@pytest.fixture
def made(db):
    return bp.bulk_profiles(
        providers=24, hidden=4, prefix=PREFIX, patients_per_provider=5, now=NOW, seed=3
    )


def test_bulk_profiles_public_ones_pass_the_checklist_and_the_hidden_ones_are_not_public(made):
    every = ProviderProfile.objects.filter(practice__slug__startswith=PREFIX)
    public = selectors.public_profiles().filter(practice__slug__startswith=PREFIX)
    assert every.count() == 28
    assert public.count() == 24
    assert len(set(every.values_list("number", flat=True))) == 28
    for profile in public:
        membership = Membership.objects.get(practice=profile.practice, user=profile.provider)
        assert selectors.qualifies(profile, membership)
        assert is_valid_npi(profile.npi)
        assert profile.specialties.exists()
        assert "en" in set(profile.languages.values_list("code", flat=True))
        assert profile.locations.exists()
        assert {loc.practice_id for loc in profile.locations.all()} == {profile.practice_id}
        assert {v.practice_id for v in profile.online_visit_types.all()} == {profile.practice_id}
        assert len(profile.number) == 5
    hidden = every.exclude(pk__in=public.values("pk"))
    assert hidden.count() == 4
    assert all(not p.is_on or not p.npi_attested for p in hidden)


def test_bulk_profiles_schedules_never_overlap_stay_in_hours_and_leave_open_times(made):
    held = Appointment.objects.filter(HOLDS_TIME, practice__slug__startswith=PREFIX).order_by(
        "provider_id", "start_at"
    )
    assert held.count() > 24 * 20
    stretches: dict[int, list] = {}
    for w in WorkingHours.objects.filter(practice__slug__startswith=PREFIX):
        stretches.setdefault(w.provider_id, []).append(
            calendar.Stretch(w.weekday, w.start_time, w.end_time, w.location_id)
        )
    blocked = list(BlockedTime.objects.filter(practice__slug__startswith=PREFIX))
    previous = None
    for appointment in held.select_related("practice"):
        if previous is not None and previous.provider_id == appointment.provider_id:
            assert previous.end_at <= appointment.start_at, (previous.pk, appointment.pk)
        previous = appointment
        zone = zoneinfo.ZoneInfo(appointment.practice.time_zone)
        day = appointment.start_at.astimezone(zone).date()
        hours = calendar.working_intervals(stretches[appointment.provider_id], day, 1, zone)
        assert calendar.containing(hours, appointment.start_at, appointment.end_at)
        assert not any(
            b.practice_id == appointment.practice_id
            and b.provider_id in (None, appointment.provider_id)
            and calendar.overlaps(b.start_at, b.end_at, appointment.start_at, appointment.end_at)
            for b in blocked
        )
    profile = selectors.public_profiles().filter(practice__slug__startswith=PREFIX).first()
    visit_type = profile.online_visit_types.order_by("duration_minutes").first()
    times = scheduling_selectors.open_times(
        profile.practice, profile.provider, visit_type, now=NOW, days=28
    )
    assert len(times) > 10
