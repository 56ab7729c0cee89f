"""Throttling without lockout abuse (SPEC §4.2): per-account delay and lock, per-address limit,
and answers that never tell whether an account exists."""

import datetime as dt
import re
import threading

import pytest
import time_machine
from django.contrib.auth.hashers import MD5PasswordHasher
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from portico.accounts import services
from portico.accounts.models import User
from portico.audit.models import AuditEvent
from portico.portal import services as portal
from tests import factories
from tests.factories import PASSWORD
from tests.pages.html import form_errors, parse
from tests.portal.test_transitions import _run_in_thread, needs_postgres

pytestmark = pytest.mark.django_db

SIGN_IN = reverse("accounts:sign_in")
START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def post_sign_in(client, email, password):
    return client.post(SIGN_IN, {"email": email, "password": password})


def answer(response):
    """What a person (or a script) sees of a sign-in answer: status and the error shown."""
    return response.status_code, form_errors(parse(response))


def page_shape(response) -> str:
    return re.sub(r'value="[^"]*"', 'value=""', response.content.decode())


def fail_times(client, traveller, email, times, *, step=dt.timedelta(minutes=20)):
    """Wrong passwords, each after the previous wait has run out."""
    for _ in range(times):
        post_sign_in(client, email, "wrong password")
        traveller.shift(step)


def test_unknown_account_gets_the_same_status_and_body_as_a_wrong_password(client):
    factories.make_user("known@example.test")

    known = post_sign_in(client, "known@example.test", "wrong password")
    unknown = post_sign_in(client, "unknown@example.test", "wrong password")

    assert answer(known) == answer(unknown) == (200, [services.SIGN_IN_FAILED])
    # The pages differ in nothing but the CSRF token and the email typed.
    assert page_shape(known) == page_shape(unknown)


class CountingHasher(MD5PasswordHasher):
    """A real (fast) hasher that counts its work."""

    algorithm = "counting_md5"
    calls = 0

    def encode(self, password, salt):
        CountingHasher.calls += 1
        return super().encode(password, salt).replace("md5$", "counting_md5$", 1)

    def verify(self, password, encoded):
        CountingHasher.calls += 1
        return super().verify(password, encoded.replace("counting_md5$", "md5$", 1))


def test_unknown_account_costs_a_password_hash_like_a_known_one(client, settings):
    settings.PASSWORD_HASHERS = ["tests.accounts.test_sign_in_throttle.CountingHasher"]
    factories.make_user("known@example.test")

    CountingHasher.calls = 0
    post_sign_in(client, "known@example.test", "wrong password")
    known_work = CountingHasher.calls
    CountingHasher.calls = 0
    post_sign_in(client, "unknown@example.test", "wrong password")

    assert known_work == CountingHasher.calls == 1


def test_each_wrong_password_doubles_the_wait_before_the_next_try(client):
    user = factories.make_user("pat@example.test")
    with time_machine.travel(START, tick=False) as traveller:
        for failures, wait in [(1, 1), (2, 2), (3, 4), (4, 8)]:
            post_sign_in(client, user.email, "wrong password")
            user.refresh_from_db()
            assert user.failed_sign_ins == failures
            assert user.sign_in_blocked_until == timezone.now() + dt.timedelta(seconds=wait)
            traveller.shift(dt.timedelta(seconds=wait))


def test_right_password_during_the_wait_is_refused_with_the_same_answer(client):
    user = factories.make_user("pat@example.test")
    with time_machine.travel(START, tick=False) as traveller:
        fail_times(client, traveller, user.email, 2, step=dt.timedelta(seconds=1))
        # Two wrong passwords, one second apart: the account waits 2 s after the second.
        waiting = post_sign_in(client, user.email, PASSWORD)
        assert answer(waiting) == (200, [services.SIGN_IN_FAILED])
        assert "_auth_user_id" not in client.session

        traveller.shift(dt.timedelta(seconds=1))
        assert post_sign_in(client, user.email, PASSWORD).status_code == 302
    user.refresh_from_db()
    assert user.failed_sign_ins == 0
    assert user.sign_in_blocked_until is None


def test_ten_wrong_passwords_in_a_row_lock_the_account(client):
    user = factories.make_user("pat@example.test")
    with time_machine.travel(START, tick=False) as traveller:
        fail_times(client, traveller, user.email, 10)
        user.refresh_from_db()
        assert user.is_locked
        assert AuditEvent.objects.filter(action="account.locked", actor=user).count() == 1

        # Locked: even the right password gets the generic answer.
        locked = post_sign_in(client, user.email, PASSWORD)
        assert answer(locked) == (200, [services.SIGN_IN_FAILED])
        assert "_auth_user_id" not in client.session


def test_nine_wrong_passwords_then_the_right_one_start_the_count_again(client):
    user = factories.make_user("pat@example.test")
    with time_machine.travel(START, tick=False) as traveller:
        fail_times(client, traveller, user.email, 9)
        assert post_sign_in(client, user.email, PASSWORD).status_code == 302
        client.logout()
        fail_times(client, traveller, user.email, 9)
    user.refresh_from_db()
    assert not user.is_locked
    assert user.failed_sign_ins == 9


def test_lock_ends_by_itself_after_the_configured_time(client, settings):
    settings.PORTICO_SIGN_IN_LOCK_SECONDS = 3600
    user = factories.make_user("pat@example.test")
    with time_machine.travel(START, tick=False) as traveller:
        fail_times(client, traveller, user.email, 10, step=dt.timedelta(minutes=20))
        traveller.shift(dt.timedelta(minutes=39))  # 59 minutes after the lock
        assert post_sign_in(client, user.email, PASSWORD).status_code == 200
        traveller.shift(dt.timedelta(minutes=1, seconds=1))
        assert post_sign_in(client, user.email, PASSWORD).status_code == 302
    user.refresh_from_db()
    assert (user.failed_sign_ins, user.locked_at) == (0, None)


def test_staff_of_the_patients_practice_unlock_the_account(client, admin, patient):
    account = factories.enroll(admin, patient)
    with time_machine.travel(START, tick=False) as traveller:
        fail_times(client, traveller, account.email, 10)
        portal.portal_account_unlock(admin, patient=patient)
        account.refresh_from_db()
        assert not account.is_locked
        assert post_sign_in(client, account.email, PASSWORD).status_code == 302
    event = AuditEvent.objects.get(action="account.unlocked")
    assert (event.actor, event.patient, event.details["by"]) == (admin, patient, "staff")


def test_staff_of_another_practice_cannot_unlock_the_account(admin, patient, outsider):
    from django.core.exceptions import PermissionDenied

    account = factories.enroll(admin, patient)
    User.objects.filter(pk=account.pk).update(
        failed_sign_ins=10,
        locked_at=timezone.now(),
        sign_in_blocked_until=timezone.now() + dt.timedelta(hours=1),
    )
    with pytest.raises(PermissionDenied):
        portal.portal_account_unlock(outsider, patient=patient)
    account.refresh_from_db()
    assert account.is_locked


def test_too_many_failures_from_one_address_are_refused_for_every_account(client, settings):
    settings.PORTICO_RATE_LIMITS = {**settings.PORTICO_RATE_LIMITS, "sign_in": (3, 600)}
    user = factories.make_user("pat@example.test")
    for n in range(3):
        post_sign_in(client, f"someone{n}@example.test", "guess")

    refused = post_sign_in(client, user.email, PASSWORD)

    assert refused.status_code == 429
    assert "too many attempts from your network" in form_errors(parse(refused))[0]
    assert "_auth_user_id" not in client.session
    # Another address is not affected.
    other = Client(REMOTE_ADDR="192.0.2.7")
    assert post_sign_in(other, user.email, PASSWORD).status_code == 302


def test_sign_in_and_failures_are_audited_without_the_password(client):
    user = factories.make_user("pat@example.test")
    post_sign_in(client, user.email, "wrong password")
    post_sign_in(client, "nobody@example.test", "wrong password")
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=2)):
        post_sign_in(client, user.email, PASSWORD)

    failed = AuditEvent.objects.filter(action="account.sign_in_failed").order_by("pk")
    assert [(e.actor, e.details["reason"]) for e in failed] == [
        (user, "wrong_password"),
        (None, "unknown"),
    ]
    assert AuditEvent.objects.filter(action="account.sign_in", actor=user).count() == 1
    assert not AuditEvent.objects.filter(details__icontains="wrong password").exists()


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_guesses_sent_at_once_get_one_judged_try_not_one_each():
    user = factories.make_user("pat@example.test")
    request = RequestFactory().post(SIGN_IN)
    barrier = threading.Barrier(6)
    outcomes: list = []

    def guess(n):
        def attempt():
            barrier.wait(timeout=10)
            try:
                services.sign_in_check(request, login=user.email, password=f"guess {n}")
            except services.SignInFailed:
                outcomes.append("refused")

        return attempt

    errors: list = []
    for thread in [_run_in_thread(guess(n), errors) for n in range(6)]:
        thread.join(timeout=30)

    assert errors == []
    assert outcomes == ["refused"] * 6
    user.refresh_from_db()
    assert user.failed_sign_ins == 1  # the other five were refused unjudged (waiting)
    reasons = AuditEvent.objects.filter(action="account.sign_in_failed").values_list(
        "details__reason", flat=True
    )
    assert sorted(reasons) == ["waiting"] * 5 + ["wrong_password"]
