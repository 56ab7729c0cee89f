"""The demo mailbox page /dev/mailbox/ exists only in demo or debug mode."""

import pytest
from django.core.mail import EmailMultiAlternatives
from django.urls import reverse

from portico.notifications.mailbox import MailboxBackend
from tests.pages.html import parse

pytestmark = pytest.mark.django_db


@pytest.fixture
def mailbox_dir(settings, tmp_path):
    settings.PORTICO_MAILBOX_DIR = tmp_path / "mailbox"
    return settings.PORTICO_MAILBOX_DIR


def deliver_one() -> str:
    message = EmailMultiAlternatives(
        subject="Riverside Clinic invites you to your patient portal",
        body="Access your records: http://testserver/portal/register/abc/",
        from_email="healthrecords@testserver",
        to=["robin@home.example"],
    )
    message.attach_alternative("<p><a href='x'>Access your records</a></p>", "text/html")
    MailboxBackend().send_messages([message])
    from portico.notifications.mailbox import mailbox_messages

    return mailbox_messages()[0].key


def test_mailbox_is_404_unless_demo_or_debug(client, settings, mailbox_dir):
    settings.PORTICO_MAILBOX_ENABLED = False
    key = deliver_one()

    for url in (
        reverse("mailbox"),
        reverse("mailbox_message", args=[key]),
        reverse("mailbox_html", args=[key]),
    ):
        assert client.get(url).status_code == 404, url
    assert parse(client.get(reverse("accounts:sign_in"))).find("a", text="Demo mailbox") is None


def test_mailbox_setting_follows_demo_and_debug():
    from django.conf import settings

    assert (settings.DEBUG or settings.DEMO) == settings.PORTICO_MAILBOX_ENABLED


def test_mailbox_lists_and_shows_messages_in_demo(client, settings, mailbox_dir):
    settings.PORTICO_MAILBOX_ENABLED = True
    key = deliver_one()

    listing = parse(client.get(reverse("mailbox")))
    link = listing.one("a", text="Riverside Clinic invites you to your patient portal")
    assert "robin@home.example" in listing.one("table").text
    message = client.get(link["href"])
    assert message.status_code == 200
    assert "Access your records" in parse(message).one("main").text
    html = client.get(reverse("mailbox_html", args=[key]))
    assert "sandbox" in html["Content-Security-Policy"]
    assert parse(client.get(reverse("accounts:sign_in"))).find("a", text="Demo mailbox")


@pytest.mark.parametrize("key", ["no-such-message", "..", "%2e%2e%2fetc"])
def test_unknown_mailbox_message_is_404(client, settings, mailbox_dir, key):
    settings.PORTICO_MAILBOX_ENABLED = True

    assert client.get(reverse("mailbox_message", args=[key])).status_code == 404
