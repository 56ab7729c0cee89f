"""Forgot password? and Forgot username? (SPEC §4.2): the same answer whatever the address,
a single-use reset link valid one hour, at most one email per account per minute, and a reset
that unlocks the account and ends its other sessions."""

import datetime as dt
import re

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse

from portico.accounts.models import User
from portico.audit.models import AuditEvent
from portico.notifications.models import OutboundEmail
from tests import factories
from tests.factories import PASSWORD
from tests.pages.html import form_errors, parse

pytestmark = pytest.mark.django_db

FORGOT_PASSWORD = reverse("accounts:password_forgot")
FORGOT_USERNAME = reverse("accounts:username_forgot")
SIGN_IN = reverse("accounts:sign_in")
START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
NEW_PASSWORD = "a brand new long passphrase"


@pytest.fixture
def account(db):
    return factories.make_user("pat@example.test")


@pytest.fixture
def deliver(django_capture_on_commit_callbacks):
    """`with deliver():` sends what the requests inside queue, as the worker would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def page_shape(response) -> str:
    return re.sub(r'value="[^"]*"', 'value=""', response.content.decode())


def reset_link(message) -> str:
    """The path of the reset link in an email."""
    return re.search(r"http://[^/\s]+(/accounts/password/reset/[^\s]+/)", message.body).group(1)


def ask_for_reset(client, email, deliver):
    with deliver():
        return client.post(FORGOT_PASSWORD, {"email": email})


def set_new_password(client, path, password=NEW_PASSWORD):
    client.get(path)
    return client.post(
        reverse("accounts:password_reset_new"),
        {"new_password": password, "new_password_again": password},
    )


def test_sign_in_page_links_to_both_recovery_pages(client):
    page = client.get(SIGN_IN).content.decode()
    assert f'href="{FORGOT_PASSWORD}">Forgot password?' in page
    assert f'href="{FORGOT_USERNAME}">Forgot username?' in page


@pytest.mark.parametrize("url", [FORGOT_PASSWORD, FORGOT_USERNAME])
def test_unknown_and_known_addresses_get_the_same_answer(client, account, url, deliver):
    with deliver():
        known = client.post(url, {"email": account.email})
        unknown = client.post(url, {"email": "nobody@example.test"})

    assert known.status_code == unknown.status_code == 200
    assert page_shape(known) == page_shape(unknown)
    assert "Check your email" in known.content.decode()
    assert [m.to for m in mail.outbox] == [[account.email]]


def test_reset_email_comes_from_the_notifications_sender_with_a_link(
    client, account, deliver, settings
):
    settings.PORTICO_NOTIFICATIONS_FROM = "help@clinic.example"
    ask_for_reset(client, account.email, deliver)

    (message,) = mail.outbox
    assert message.from_email == "Portico <help@clinic.example>"
    assert message.to == [account.email]
    assert reset_link(message).startswith("/accounts/password/reset/")
    assert OutboundEmail.objects.get().kind == "account.password_reset"
    event = AuditEvent.objects.get(action="account.password_reset_requested")
    assert event.actor == account


def test_username_email_names_the_address_and_goes_to_it(client, account, deliver):
    with deliver():
        client.post(FORGOT_USERNAME, {"email": "  PAT@example.test "})

    (message,) = mail.outbox
    assert message.to == [account.email]
    assert message.subject == "Your Portico username"
    assert f"Your username is your email address: {account.email}" in message.body
    assert AuditEvent.objects.filter(action="account.username_requested", actor=account).exists()


def test_a_malformed_address_is_named_next_to_the_field(client):
    response = client.post(FORGOT_PASSWORD, {"email": "not an address"})
    assert parse(response).find(id="id_email_error").text.strip() == "Enter a valid email address."


def test_reset_link_sets_a_new_password_once(client, account, deliver):
    ask_for_reset(client, account.email, deliver)
    link = reset_link(mail.outbox[0])

    response = set_new_password(client, link)

    assert response.status_code == 302 and response["Location"] == SIGN_IN
    account.refresh_from_db()
    assert account.check_password(NEW_PASSWORD)
    assert AuditEvent.objects.filter(action="account.password_reset", actor=account).exists()
    # The reset does not sign anyone in: the second factor comes with the next sign-in.
    assert "_auth_user_id" not in client.session

    again = Client().get(link)
    assert again.status_code == 400
    assert "This link no longer works" in again.content.decode()
    assert set_new_password(Client(), link, "yet another passphrase").status_code == 400
    account.refresh_from_db()
    assert account.check_password(NEW_PASSWORD)


def test_reset_link_expires_after_one_hour(client, account, deliver):
    with time_machine.travel(START, tick=False) as traveller:
        ask_for_reset(client, account.email, deliver)
        link = reset_link(mail.outbox[0])
        traveller.shift(dt.timedelta(minutes=59))
        assert client.get(link).status_code == 302
        traveller.shift(dt.timedelta(minutes=1, seconds=1))
        assert client.get(link).status_code == 400
        assert set_new_password(client, link).status_code == 400
    account.refresh_from_db()
    assert account.check_password(PASSWORD)


def test_a_forged_link_does_not_work(client, account):
    forged = reverse("accounts:password_reset_link", args=[f"{account.public_id.hex}.abc-123"])
    assert client.get(forged).status_code == 400
    assert client.get(reverse("accounts:password_reset_new")).status_code == 400


def test_new_password_follows_the_password_rules(client, account, deliver):
    ask_for_reset(client, account.email, deliver)

    response = set_new_password(client, reset_link(mail.outbox[0]), "password")

    assert response.status_code == 200
    assert parse(response).find(id="id_new_password_error") is not None
    account.refresh_from_db()
    assert account.check_password(PASSWORD)


def test_at_most_one_email_of_a_kind_per_account_per_minute(client, account, deliver):
    with time_machine.travel(START, tick=False) as traveller:
        for _ in range(3):
            ask_for_reset(client, account.email, deliver)
        with deliver():
            client.post(FORGOT_USERNAME, {"email": account.email})
        assert len(mail.outbox) == 2
        traveller.shift(dt.timedelta(seconds=61))
        ask_for_reset(client, account.email, deliver)
    assert [m.subject for m in mail.outbox] == [
        "Reset your Portico password",
        "Your Portico username",
        "Reset your Portico password",
    ]


def test_too_many_requests_from_one_address_are_refused(client, settings):
    settings.PORTICO_RATE_LIMITS = {**settings.PORTICO_RATE_LIMITS, "password_reset": (2, 900)}
    for n in range(2):
        assert client.post(FORGOT_PASSWORD, {"email": f"x{n}@example.test"}).status_code == 200

    refused = client.post(FORGOT_PASSWORD, {"email": "x9@example.test"})

    assert refused.status_code == 429
    assert "too many requests from your network" in form_errors(parse(refused))[0]


def test_reset_unlocks_the_account_and_ends_its_other_sessions(client, account, deliver):
    other_browser = Client()
    factories.sign_in(other_browser, account)
    User.objects.filter(pk=account.pk).update(
        failed_sign_ins=10,
        locked_at=dt.datetime.now(dt.UTC),
        sign_in_blocked_until=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1),
    )
    ask_for_reset(client, account.email, deliver)

    set_new_password(client, reset_link(mail.outbox[0]))

    account.refresh_from_db()
    assert not account.is_locked and account.failed_sign_ins == 0
    assert AuditEvent.objects.get(action="account.unlocked").details["by"] == "reset"
    assert other_browser.get(reverse("accounts:profile")).status_code == 302
    assert (
        client.post(SIGN_IN, {"email": account.email, "password": NEW_PASSWORD}).status_code == 302
    )


def test_reset_email_waiting_longer_than_an_hour_is_not_sent(account, deliver):
    from portico.accounts.services import PASSWORD_RESET_EMAIL
    from portico.notifications.services import email_deliver, email_enqueue

    with time_machine.travel(START, tick=False) as traveller:
        queued = email_enqueue(
            kind=PASSWORD_RESET_EMAIL, subject_id=account.public_id, to_address=account.email
        )
        traveller.shift(dt.timedelta(hours=1, seconds=1))
        assert email_deliver(email_id=queued.pk) == "skipped"
    assert mail.outbox == []


def test_reset_keys_are_redacted_from_log_lines():
    from portico.core.logging import redact

    line = '"GET /accounts/password/reset/0f3a9c.cabc12-9f8e7d6c5b4a/ HTTP/1.1" 302'
    assert redact(line) == '"GET /accounts/password/reset/[redacted]/ HTTP/1.1" 302'
