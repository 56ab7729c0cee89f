"""SPEC §9.3 on the messaging pages: from the patient's 12th birthday (the practice's narrowing
age, in its time zone) a parent's or guardian's access no longer includes the patient's
messages — no Messages link, and every messaging page answers 403 with a clear message and
shows no message; until then, and for other representatives, a representative writes on the
patient's behalf and the audit trail says whom they acted for."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
import time_machine
from django.core.files.storage import FileSystemStorage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from portico.audit.models import AuditEvent
from portico.messaging import services
from portico.messaging.models import Attachment, Message, Thread, ThreadKind
from portico.portal import registration
from portico.portal.models import PortalAccess
from tests.factories import enroll, enroll_representative, invite, make_patient, sign_in
from tests.pages.html import parse

pytestmark = pytest.mark.django_db

HONOLULU = zoneinfo.ZoneInfo("Pacific/Honolulu")
PRIVATE = (
    "From the age of 12, a patient's messages with the practice are private to them: a "
    "parent's or guardian's access no longer includes them. The rest of the record stays open "
    "to you."
)
ELEVEN_364 = dt.datetime(2026, 3, 9, 23, 30, tzinfo=HONOLULU)
TWELVE = dt.datetime(2026, 3, 10, 0, 30, tzinfo=HONOLULU)


@pytest.fixture(autouse=True)
def stored_files(tmp_path, monkeypatch):
    field = Attachment._meta.get_field("file")
    monkeypatch.setattr(field, "storage", FileSystemStorage(location=tmp_path / "attachments"))


@pytest.fixture
def teen(admin, practice, messaging_on, provider):
    """Sam (born 2014-03-10, at a practice in Honolulu), enrolled, with a thread he wrote with
    an attachment; his mother Jordan represents him. Returns (parent account, representative,
    thread, attachment)."""
    practice.time_zone = "Pacific/Honolulu"
    practice.save()
    kid = make_patient(
        practice,
        legal_first_name="Sam",
        legal_last_name="Rivera",
        date_of_birth=dt.date(2014, 3, 10),
    )
    kid_account = enroll(admin, kid)
    thread = services.thread_start(
        kid_account,
        access=PortalAccess.objects.get(patient=kid),
        provider=provider,
        kind=ThreadKind.GENERAL,
        subject="A private question",
        body="Just between us.",
        upload=SimpleUploadedFile("note.txt", b"hello"),
    )
    parent_account, parent = enroll_representative(admin, kid)
    return parent_account, parent, thread, Attachment.objects.get()


def messaging_urls(rep, thread, attachment) -> dict[str, str]:
    access = rep.public_id
    return {
        "list": reverse("messaging:patient_list", args=[access]),
        "new": reverse("messaging:patient_new", args=[access]),
        "renewal": reverse("messaging:patient_renewal", args=[access]),
        "thread": reverse("messaging:patient_thread", args=[access, thread.public_id]),
        "attachment": reverse(
            "messaging:patient_attachment", args=[access, thread.public_id, attachment.public_id]
        ),
    }


def test_a_parent_of_a_12_year_old_cannot_open_any_messaging_page(client, teen, provider):
    parent_account, parent, thread, attachment = teen
    with time_machine.travel(TWELVE, tick=False):
        sign_in(client, parent_account)
        for name, url in messaging_urls(parent, thread, attachment).items():
            response = client.get(url)
            assert response.status_code == 403, name
            assert parse(response).one(class_="access-error").text == PRIVATE, name
            html = response.content.decode()
            assert "A private question" not in html and "Just between us." not in html
        # Nor write, answer or change the email setting.
        posts = {
            reverse("messaging:patient_new", args=[parent.public_id]): {
                "provider": str(provider.public_id),
                "kind": ThreadKind.GENERAL,
                "subject": "From mum",
                "body": "Hello",
            },
            reverse("messaging:patient_thread", args=[parent.public_id, thread.public_id]): {
                "body": "Mum here"
            },
            reverse("messaging:patient_settings", args=[parent.public_id]): {"enabled": ""},
        }
        for url, data in posts.items():
            assert client.post(url, data).status_code == 403, url
    assert Thread.objects.count() == 1 and Message.objects.count() == 1
    assert not AuditEvent.objects.filter(
        actor=parent_account, action__startswith="message."
    ).exists()


def test_a_parent_of_a_12_year_old_has_no_messages_link(client, teen, admin):
    parent_account, parent, _thread, _attachment = teen
    # The parent also holds their own record, so the home page lists both.
    own_chart = make_patient(parent.practice, legal_first_name="Jordan")
    invitation = invite(admin, own_chart)
    registration.registration_link_account(parent_account, invitation_id=str(invitation.public_id))
    messages_url = reverse("messaging:patient_list", args=[parent.public_id])
    with time_machine.travel(TWELVE, tick=False):
        sign_in(client, parent_account)
        record = parse(client.get(reverse("records:record", args=[parent.public_id])))
        nav = record.one("nav", class_="record-nav")
        assert "Messages" not in [a.text for a in nav.find_all("a")]
        home = client.get(reverse("portal:home")).content.decode()
        assert messages_url not in home
        # Their own record still has its messages.
        own = PortalAccess.objects.get(patient=own_chart)
        assert reverse("messaging:patient_list", args=[own.public_id]) in home


def test_at_11_years_364_days_the_parent_reads_and_writes_messages(client, teen, provider):
    parent_account, parent, thread, attachment = teen
    with time_machine.travel(ELEVEN_364, tick=False):
        sign_in(client, parent_account)
        record = parse(client.get(reverse("records:record", args=[parent.public_id])))
        nav = record.one("nav", class_="record-nav")
        assert "Messages" in [a.text for a in nav.find_all("a")]
        urls = messaging_urls(parent, thread, attachment)
        for name, url in urls.items():
            assert client.get(url).status_code == 200, name
        assert "A private question" in client.get(urls["list"]).content.decode()


def test_a_representatives_message_is_sent_on_the_patients_behalf_and_audited_acting_as(
    client, admin, practice, messaging_on, provider
):
    kid = make_patient(practice, legal_first_name="Sam", date_of_birth=dt.date(2018, 6, 1))
    parent_account, parent = enroll_representative(admin, kid)
    sign_in(client, parent_account)

    response = client.post(
        reverse("messaging:patient_new", args=[parent.public_id]),
        {
            "provider": str(provider.public_id),
            "kind": ThreadKind.MEDICAL,
            "subject": "Sam's cough",
            "body": "He has been coughing since Monday.",
        },
    )

    assert response.status_code == 302
    thread = Thread.objects.get()
    assert thread.patient == kid and thread.started_by == parent_account
    event = AuditEvent.objects.get(action="message.thread_start")
    assert (event.actor, event.patient, event.acting_as) == (parent_account, kid, "parent")
    # Reading the thread is audited the same way.
    client.get(response["Location"])
    read = AuditEvent.objects.get(action="message.read", actor=parent_account)
    assert read.acting_as == "parent"


def test_a_caregiver_of_an_adult_keeps_the_messages(client, admin, patient, messaging_on):
    caregiver_account, caregiver = enroll_representative(admin, patient, relationship="caregiver")
    sign_in(client, caregiver_account)

    response = client.get(reverse("messaging:patient_list", args=[caregiver.public_id]))
    assert response.status_code == 200
