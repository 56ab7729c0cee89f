"""SPEC §6.2 "Send": a 7-day link, token stored hashed, revocable, nothing personal in the email;
the recipient reads the shared record without an account, audited as a link access."""

import datetime as dt
import re

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from portico.audit.models import AuditEvent
from portico.portal import services as portal
from portico.records import services
from portico.records.models import SharedLink
from tests import factories
from tests.factories import sign_in
from tests.pages.html import field_errors, parse
from tests.records import builders
from tests.records.conftest import access_of, record_url

pytestmark = pytest.mark.django_db

GONE = "This link no longer works."


def send(client, patient, email="dr.second@example.org", send_email=None):
    url = record_url(patient, "records:send")
    if send_email is None:
        return client.post(url, {"email": email})
    with send_email:
        return client.post(url, {"email": email})


def link_path() -> str:
    url = re.search(r"https?://[^/\s]+(/shared/[^/\s]+/)", mail.outbox[0].body)
    return url.group(1)


def test_sending_emails_a_link_without_name_or_health_data(
    patient_client, patient, provider, send_email
):
    builders.lab(patient, display="Hemoglobin A1c")
    builders.problem(patient, display="Type 2 diabetes mellitus")

    response = send(patient_client, patient, "Dr.Second@Example.org ", send_email)

    assert response.status_code == 302
    (message,) = mail.outbox
    assert message.to == ["dr.second@example.org"]
    html = message.alternatives[0][0]
    for text in (message.subject, message.body, html):
        for secret in (
            patient.legal_first_name,
            patient.legal_last_name,
            patient.email,
            "Hemoglobin",
            "diabetes",
            "Riverside",
        ):
            assert secret not in text
    assert "/shared/" in message.body


def test_the_token_is_long_random_and_stored_only_hashed(patient_client, patient, send_email):
    send(patient_client, patient, send_email=send_email)
    token = link_path().split("/")[2]

    link = SharedLink.objects.get()
    assert len(token) >= 22  # at least 128 bits in URL-safe base64
    assert token not in (link.token_hash, link.link_nonce)
    assert link.expires_at - link.created_at == dt.timedelta(days=7)


def test_recipient_opens_the_shared_record_without_an_account(
    client, account, patient, provider, send_email
):
    builders.lab(patient, display="Hemoglobin A1c", flag="H")
    builders.lab(patient, display="Hidden test", shared=False)
    sign_in(client, account)
    send(client, patient, send_email=send_email)
    client.logout()

    response = client.get(link_path())

    assert response.status_code == 200
    page = parse(response)
    assert "Hemoglobin A1c" in page.one("main").text
    assert "High" in page.one(class_="lab-flag").text
    assert "Hidden test" not in response.content.decode()
    assert (
        page.one("main").find("form", method="post") is None
    )  # read-only (the header has the language switch)
    opened = AuditEvent.objects.get(action="phr.link_opened")
    assert opened.actor is None
    assert opened.patient == patient
    assert opened.actor_label == services.LINK_RECIPIENT_LABEL
    assert SharedLink.objects.get().opened_count == 1


def test_recipient_can_download_the_fhir_bundle(client, account, patient, send_email):
    sign_in(client, account)
    send(client, patient, send_email=send_email)
    client.logout()

    response = client.get(link_path() + "fhir.json")
    assert response.status_code == 200
    assert b'"resourceType": "Bundle"' in response.content


def test_link_stops_working_after_seven_days(client, account, patient, send_email):
    sign_in(client, account)
    send(client, patient, send_email=send_email)
    path = link_path()
    client.logout()

    with time_machine.travel(timezone.now() + dt.timedelta(days=6, hours=23)):
        assert client.get(path).status_code == 200
    with time_machine.travel(timezone.now() + dt.timedelta(days=7, seconds=1)):
        response = client.get(path)
    assert response.status_code == 410
    assert parse(response).one("h1").text == GONE
    assert patient.legal_last_name not in response.content.decode()


def test_patient_revokes_a_link_from_the_list(client, account, patient, send_email):
    sign_in(client, account)
    send(client, patient, send_email=send_email)
    path = link_path()
    link = SharedLink.objects.get()

    listing = parse(client.get(record_url(patient, "records:send")))
    row = listing.one("tbody").one("tr")
    assert "dr.second@example.org" in row.text and "Active" in row.text

    response = client.post(record_url(patient, "records:revoke_link", link.public_id))
    assert response.status_code == 302
    row = parse(client.get(record_url(patient, "records:send"))).one("tbody").one("tr")
    assert "Revoked" in row.text
    assert row.find("button") is None

    client.logout()
    gone = client.get(path)
    assert gone.status_code == 410
    assert parse(gone).one("h1").text == GONE
    assert AuditEvent.objects.filter(action="phr.link_revoked", patient=patient).count() == 1


def test_a_link_of_another_chart_cannot_be_revoked(client, admin, practice, send_email):
    mine, theirs = factories.make_patient(practice), factories.make_patient(practice)
    me = factories.enroll(admin, mine, email="me@example.test")
    them = factories.enroll(admin, theirs, email="them@example.test")
    with send_email:
        their_link = services.shared_link_send(
            them, access=access_of(theirs), email="x@example.org"
        )
    sign_in(client, me)

    response = client.post(record_url(mine, "records:revoke_link", their_link.public_id))
    assert response.status_code == 404
    # Another account's chart, with the right link id: also a 404.
    response = client.post(record_url(theirs, "records:revoke_link", their_link.public_id))
    assert response.status_code == 404
    their_link.refresh_from_db()
    assert their_link.revoked_at is None


def test_the_link_shows_only_its_own_chart(client, admin, practice, send_email):
    mine, theirs = factories.make_patient(practice), factories.make_patient(practice)
    me = factories.enroll(admin, mine, email="me@example.test")
    factories.enroll(admin, theirs, email="them@example.test")
    builders.lab(theirs, display="Their result")
    sign_in(client, me)
    send(client, mine, send_email=send_email)
    client.logout()

    response = client.get(link_path())
    assert mine.legal_last_name in response.content.decode()
    assert "Their result" not in response.content.decode()


def test_unknown_token_answers_link_gone(client):
    response = client.get(reverse("records:shared", args=["A" * 43]))
    assert response.status_code == 410
    assert parse(response).one("h1").text == GONE


def test_revoking_portal_access_stops_sent_links(client, admin, account, patient, send_email):
    sign_in(client, account)
    send(client, patient, send_email=send_email)
    portal.access_revoke(admin, patient=patient)
    client.logout()

    assert client.get(link_path()).status_code == 410


@pytest.mark.parametrize("email", ["", "not-an-address"])
def test_bad_address_is_refused_next_to_the_field(patient_client, patient, email):
    response = send(patient_client, patient, email)

    assert response.status_code == 200
    assert field_errors(parse(response), "id_email")
    assert not SharedLink.objects.exists()
    assert not mail.outbox


def test_link_revoked_before_delivery_is_not_sent(
    account, patient, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        link = services.shared_link_send(account, access=access_of(patient), email="a@example.org")
    services.shared_link_revoke(account, access=access_of(patient), link_id=link.public_id)
    for callback in callbacks:
        callback()
    assert mail.outbox == []
