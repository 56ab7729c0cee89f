"""Revoking portal access, resetting a password or locking an account ends that account's
sessions (SPEC §4.2, §4.3): another browser's session stops working at once."""

import datetime as dt

import pytest
import time_machine
from django.test import Client, RequestFactory
from django.urls import reverse

from portico.accounts import services
from portico.accounts.sessions import sessions_end_all
from portico.audit.models import AuditEvent
from portico.portal import services as portal
from tests import factories
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

PROFILE = reverse("accounts:profile")


def signed_in_client(user) -> Client:
    client = Client()
    factories.sign_in(client, user)
    assert client.get(PROFILE).status_code == 200
    return client


def is_signed_out(client) -> bool:
    response = client.get(PROFILE)
    return response.status_code == 302 and reverse("accounts:sign_in") in response["Location"]


def test_ending_all_sessions_signs_out_every_browser_of_the_account(staff, admin):
    first, second = signed_in_client(staff), signed_in_client(staff)
    someone_else = signed_in_client(admin)

    sessions_end_all(staff, reason="test")

    assert is_signed_out(first) and is_signed_out(second)
    assert not is_signed_out(someone_else)
    event = AuditEvent.objects.get(action="account.sessions_ended")
    assert (event.actor, event.details["reason"]) == (staff, "test")


def test_ending_all_sessions_can_keep_one(staff):
    keep, other = signed_in_client(staff), signed_in_client(staff)

    sessions_end_all(staff, keep_session_key=keep.session.session_key)

    assert not is_signed_out(keep)
    assert is_signed_out(other)


def test_revoking_portal_access_ends_the_patients_sessions(admin, patient):
    account = factories.enroll(admin, patient)
    browser = signed_in_client(account)

    portal.access_revoke(admin, patient=patient)

    assert is_signed_out(browser)
    event = AuditEvent.objects.get(action="account.sessions_ended")
    assert (event.actor, event.details["reason"]) == (admin, "portal_revoke")


def test_locking_an_account_ends_its_sessions(staff):
    browser = signed_in_client(staff)
    attacker = Client()
    with time_machine.travel(dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC), tick=False) as t:
        for _ in range(10):
            attacker.post(reverse("accounts:sign_in"), {"email": staff.email, "password": "guess"})
            t.shift(dt.timedelta(minutes=20))
        assert is_signed_out(browser)


def test_the_right_password_keeps_sessions(staff):
    browser = signed_in_client(staff)
    services.sign_in_check(
        RequestFactory().post("/accounts/sign-in/"),
        login=staff.email,
        password=PASSWORD,
    )
    assert not is_signed_out(browser)
