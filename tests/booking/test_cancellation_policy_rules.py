"""The practice's cancellation policy (SPEC §8.6): when a patient's cancellation needs the
practice's approval (none, all, within N calendar days) and when the patient is told they may be
charged, counted in calendar days of the practice's time zone (the visit's own day is day 0).
The Practice fields are set directly here; the settings page has its own tests."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
import time_machine

from portico.booking import selectors, services
from portico.booking.models import AppointmentRequest, RequestKind
from portico.practices.models import CancellationApproval
from portico.scheduling.models import Appointment, AppointmentStatus
from tests.booking.service_helpers import MONDAY, at, book

pytestmark = pytest.mark.django_db

NONE, ALL, WITHIN = CancellationApproval.NONE, CancellationApproval.ALL, CancellationApproval.WITHIN
LOS_ANGELES = zoneinfo.ZoneInfo("America/Los_Angeles")


def _day(n: int) -> dt.date:
    return MONDAY + dt.timedelta(days=n)


def _policy(practice, approval=NONE, approval_days=None, notice_days=None):
    practice.cancellation_approval = approval
    practice.cancellation_approval_days = approval_days
    practice.cancellation_notice_days = notice_days
    practice.save()


# --- Approval ------------------------------------------------------------------------------


@pytest.mark.parametrize("days_ahead", [0, 1, 2, 7, 30])
def test_no_approval_policy_never_needs_approval(days_ahead, practice, now):
    _policy(practice, NONE, approval_days=3)  # a left-over N does not count
    assert not selectors.cancellation_needs_approval(practice, at(_day(days_ahead), 9))


@pytest.mark.parametrize("days_ahead", [0, 1, 2, 7, 30])
def test_all_policy_always_needs_approval(days_ahead, practice, now):
    _policy(practice, ALL)
    assert selectors.cancellation_needs_approval(practice, at(_day(days_ahead), 9))


@pytest.mark.parametrize(
    ("n", "days_ahead", "needed"),
    [
        (0, 0, True),
        (0, 1, False),
        (1, 0, True),
        (1, 1, True),
        (1, 2, False),
        (3, 2, True),
        (3, 3, True),
        (3, 4, False),
        (None, 0, True),  # no N given: the visit's own day
        (None, 1, False),
    ],
)
def test_within_n_days_needs_approval_up_to_n_calendar_days_before(
    n, days_ahead, needed, practice, now
):
    _policy(practice, WITHIN, approval_days=n)
    # Early and late in the visit's day: only the calendar day counts.
    for hour, minute in ((0, 5), (9, 0), (23, 55)):
        start_at = at(_day(days_ahead), hour, minute)
        assert selectors.cancellation_needs_approval(practice, start_at) is needed


def test_within_n_days_counts_in_the_practices_time_zone_around_midnight(practice):
    _policy(practice, WITHIN, approval_days=1)
    wednesday_morning = at(_day(2), 9)
    # Monday 23:59 in New York is already Tuesday in UTC: still two days before Wednesday.
    with time_machine.travel(at(MONDAY, 23, 59), tick=False):
        assert not selectors.cancellation_needs_approval(practice, wednesday_morning)
        assert not selectors.charge_notice_applies(_notice(practice, 1), wednesday_morning)
    with time_machine.travel(at(_day(1), 0, 1), tick=False):
        assert selectors.cancellation_needs_approval(practice, wednesday_morning)
        assert selectors.charge_notice_applies(_notice(practice, 1), wednesday_morning)


def test_a_late_evening_visit_is_counted_on_its_local_day(practice):
    _policy(practice, WITHIN, approval_days=2)
    # Wednesday 23:30 New York is Thursday in UTC; from Monday noon it is two days ahead.
    late = at(_day(2), 23, 30)
    with time_machine.travel(at(MONDAY, 12), tick=False):
        assert selectors.cancellation_needs_approval(practice, late)


def test_another_practice_zone_moves_the_boundary(practice):
    practice.time_zone = "America/Los_Angeles"
    _policy(practice, WITHIN, approval_days=1)
    wednesday_morning = dt.datetime.combine(_day(2), dt.time(9), tzinfo=LOS_ANGELES)
    # Tuesday 01:30 in New York is still Monday 22:30 in Los Angeles: two days before.
    with time_machine.travel(at(_day(1), 1, 30), tick=False):
        assert not selectors.cancellation_needs_approval(practice, wednesday_morning)
    with time_machine.travel(at(_day(1), 3, 1), tick=False):  # Tuesday 00:01 in Los Angeles
        assert selectors.cancellation_needs_approval(practice, wednesday_morning)


def test_an_explicit_now_is_used(practice):
    _policy(practice, WITHIN, approval_days=0)
    start_at = at(_day(3), 9)
    assert selectors.cancellation_needs_approval(practice, start_at, now=at(_day(3), 6))
    assert not selectors.cancellation_needs_approval(practice, start_at, now=at(_day(2), 23))


# --- Charge notice -------------------------------------------------------------------------


def _notice(practice, n):
    practice.cancellation_notice_days = n
    return practice


@pytest.mark.parametrize("days_ahead", [0, 1, 30])
def test_without_a_policy_no_charge_notice_is_shown(days_ahead, practice, now):
    _policy(practice, ALL, notice_days=None)
    assert not selectors.charge_notice_applies(practice, at(_day(days_ahead), 9))


@pytest.mark.parametrize(
    ("n", "days_ahead", "applies"),
    [(0, 0, True), (0, 1, False), (1, 1, True), (1, 2, False), (2, 2, True), (2, 3, False)],
)
def test_the_charge_notice_applies_up_to_n_calendar_days_before(
    n, days_ahead, applies, practice, now
):
    _policy(practice, NONE, notice_days=n)
    for hour, minute in ((0, 5), (9, 0), (23, 55)):
        start_at = at(_day(days_ahead), hour, minute)
        assert selectors.charge_notice_applies(practice, start_at) is applies


def test_the_notice_is_independent_of_the_approval_policy(practice, now):
    _policy(practice, WITHIN, approval_days=0, notice_days=3)
    start_at = at(_day(2), 9)
    assert selectors.charge_notice_applies(practice, start_at)
    assert not selectors.cancellation_needs_approval(practice, start_at)


# --- The patient cancelling under each policy ------------------------------------------------


@pytest.mark.parametrize(
    ("approval", "n", "days_ahead", "waits"),
    [
        (NONE, None, 0, False),
        (ALL, None, 4, True),
        (WITHIN, 1, 0, True),
        (WITHIN, 1, 1, True),
        (WITHIN, 1, 2, False),
        (WITHIN, 3, 3, True),
        (WITHIN, 3, 4, False),
    ],
)
def test_the_patient_cancelling_follows_the_policy(
    approval,
    n,
    days_ahead,
    waits,
    practice,
    admin,
    patient,
    provider,
    follow_up,
    hours,
    now,
    enrolled,
    access,
):
    _policy(practice, approval, approval_days=n)
    confirmed = book(admin, patient, provider, follow_up, at(_day(days_ahead), 15))
    result = services.patient_cancel(enrolled, access=access, appointment=confirmed, reason="Ill")
    confirmed.refresh_from_db()
    if waits:
        assert isinstance(result, AppointmentRequest) and result.kind == RequestKind.CANCEL
        assert confirmed.status == AppointmentStatus.BOOKED
    else:
        assert isinstance(result, Appointment)
        assert confirmed.status == AppointmentStatus.CANCELLED
        assert not AppointmentRequest.objects.exists()
