"""The patient's messaging pages (SPEC §7): list, compose, renewal request, thread, reply,
download and the record-update email setting. Each test is named after the rule it checks."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.storage import FileSystemStorage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from portico.audit.models import AuditEvent
from portico.messaging import attachments, services
from portico.messaging.forms import ONE_FILE_ONLY
from portico.messaging.models import (
    Attachment,
    Message,
    RenewalDecision,
    RenewalRequest,
    Thread,
    ThreadKind,
    ThreadStatus,
)
from portico.messaging.record_updates import record_update_emails_enabled
from portico.portal import services as portal
from portico.portal.models import PortalAccess
from portico.practices import services as practice_services
from portico.practices.models import Role
from tests import factories
from tests.factories import sign_in
from tests.records import builders

pytestmark = pytest.mark.django_db

FILES = Path(__file__).parent / "files"
URGENT = (
    "Messages are for non-urgent matters. For a quick answer, call the office. In an "
    "emergency, call 911."
)


@pytest.fixture(autouse=True)
def stored_files(tmp_path, monkeypatch):
    """Attachments go to a folder of the test's own; returns it (to see what was stored)."""
    folder = tmp_path / "attachments"
    field = Attachment._meta.get_field("file")
    monkeypatch.setattr(field, "storage", FileSystemStorage(location=folder))
    return folder


def stored(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


@pytest.fixture
def account(admin, patient):
    return factories.enroll(admin, patient)


@pytest.fixture
def patient_client(client, account, messaging_on, provider):
    sign_in(client, account)
    return client


def access_of(patient) -> PortalAccess:
    return PortalAccess.objects.get(patient=patient)


def url(name: str, patient, *args) -> str:
    return reverse(name, args=[access_of(patient).public_id, *args])


def start(account, patient, provider, **values) -> Thread:
    values = {"kind": ThreadKind.GENERAL, "subject": "Knee pain", "body": "It hurts."} | values
    return services.thread_start(account, access=access_of(patient), provider=provider, **values)


def upload(name: str, content: bytes | None = None) -> SimpleUploadedFile:
    if content is None:
        content = (FILES / name).read_bytes()
    return SimpleUploadedFile(name, content)


def new_message(provider, **values) -> dict:
    return {
        "provider": str(provider.public_id),
        "kind": ThreadKind.MEDICAL,
        "subject": "Question about my knee",
        "body": "It hurts when I walk.\nSince Monday.",
    } | values


def nothing_stored(folder) -> None:
    assert Thread.objects.count() == 0
    assert Message.objects.count() == 0
    assert Attachment.objects.count() == 0
    assert stored(folder) == []


# --- The list ------------------------------------------------------------------------------


def test_the_record_navigation_links_to_messages(patient_client, patient):
    response = patient_client.get(url("records:record", patient))
    assert url("messaging:patient_list", patient).encode() in response.content
    assert b">Messages</a>" in response.content


def test_the_list_shows_threads_newest_first_with_unread_marked_and_is_audited(
    patient_client, patient, account, provider
):
    older = start(account, patient, provider, subject="Older question")
    newer = start(account, patient, provider, subject="Newer question", kind=ThreadKind.BILLING)
    services.staff_reply(provider, thread=older, body="Answered.")  # now the newest, unread
    services.thread_status_set(provider, thread=newer, status=ThreadStatus.DONE)

    response = patient_client.get(url("messaging:patient_list", patient))

    html = response.content.decode()
    assert response.status_code == 200
    assert html.index("Older question") < html.index("Newer question")
    assert html.count('class="msg-unread"') == 1
    unread_row = html[html.index('class="msg-unread"') :]
    assert unread_row.index("Unread") < unread_row.index("Older question")  # read aloud too
    assert "Billing or insurance" in html and "Dr. Paula Provider" in html
    assert ">Done<" in html and ">Open<" in html
    assert "Write a message" in html and "Ask for a prescription renewal" in html
    assert AuditEvent.objects.filter(action="message.list", actor=account).exists()


def _bulk_threads(patient, provider, n: int) -> None:
    now = timezone.now()
    Thread.objects.bulk_create(
        Thread(
            practice=patient.practice,
            patient=patient,
            provider=provider,
            kind=ThreadKind.GENERAL,
            subject=f"Subject {i}",
            last_message_at=now - timezone.timedelta(minutes=i),
            patient_unread=i % 2 == 0,
        )
        for i in range(n)
    )


def _queries(client, path) -> int:
    """The queries of a view of `path`, after a first view (which clears unread flags and
    sets up the session once)."""
    client.get(path)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200
    return len(captured)


def test_the_list_reads_a_fixed_number_of_queries_whatever_the_number_of_threads(
    patient_client, patient, provider
):
    path = url("messaging:patient_list", patient)
    _bulk_threads(patient, provider, 2)
    small = _queries(patient_client, path)
    _bulk_threads(patient, provider, 60)
    large = _queries(patient_client, path)
    assert small == large


def test_the_list_is_paged(patient_client, patient, provider):
    from portico.messaging.selectors import PAGE_SIZE

    _bulk_threads(patient, provider, PAGE_SIZE + 3)
    first = patient_client.get(url("messaging:patient_list", patient)).content.decode()
    second = patient_client.get(url("messaging:patient_list", patient) + "?page=2")
    assert "Subject 0<" in first and f"Subject {PAGE_SIZE}<" not in first
    assert f"Subject {PAGE_SIZE}<" in second.content.decode()
    assert "Page 2 of 2" in second.content.decode()


def test_the_list_of_a_patient_without_messages_says_so(patient_client, patient):
    response = patient_client.get(url("messaging:patient_list", patient))
    assert "You have no messages yet." in response.content.decode()


# --- Access, messaging off, tenancy -------------------------------------------------------


def _every_patient_url(patient, thread, attachment) -> dict[str, str]:
    return {
        "list": url("messaging:patient_list", patient),
        "new": url("messaging:patient_new", patient),
        "renewal": url("messaging:patient_renewal", patient),
        "thread": url("messaging:patient_thread", patient, thread.public_id),
        "attachment": url(
            "messaging:patient_attachment", patient, thread.public_id, attachment.public_id
        ),
    }


def test_revoked_patient_sees_the_access_error_on_messages_and_cannot_send(
    patient_client, patient, account, provider, admin, stored_files
):
    thread = start(account, patient, provider, upload=upload("sample.pdf"))
    attachment = Attachment.objects.get()
    portal.access_revoke(admin, patient=patient)
    account.refresh_from_db()  # revoking ended its sessions; it signs in again
    sign_in(patient_client, account)
    reads = AuditEvent.objects.filter(action__startswith="message.", actor=account).count()

    for path in _every_patient_url(patient, thread, attachment).values():
        response = patient_client.get(path)
        assert response.status_code == 403, path
        assert str(portal.NO_ACCESS_MESSAGE) in response.content.decode()
    response = patient_client.post(url("messaging:patient_new", patient), new_message(provider))
    assert response.status_code == 403
    response = patient_client.post(
        url("messaging:patient_thread", patient, thread.public_id), {"body": "Hello?"}
    )
    assert response.status_code == 403
    assert Thread.objects.count() == 1 and Message.objects.count() == 1
    assert AuditEvent.objects.filter(action__startswith="message.", actor=account).count() == reads


def test_practice_with_messaging_off_shows_why_and_refuses_a_send(
    patient_client, patient, account, provider, admin, practice, stored_files
):
    thread = start(account, patient, provider, subject="Earlier question")
    practice_services.messaging_settings_set(admin, practice=practice, enabled=False)
    off = str(services.MESSAGING_OFF_MESSAGE)

    listing = patient_client.get(url("messaging:patient_list", patient)).content.decode()
    assert off in listing and "Earlier question" in listing
    assert url("messaging:patient_new", patient) not in listing
    assert url("messaging:patient_renewal", patient) not in listing

    for name in ("messaging:patient_new", "messaging:patient_renewal"):
        response = patient_client.get(url(name, patient))
        assert response.status_code == 403
        assert off in response.content.decode()
        assert '<form method="post" enctype' not in response.content.decode()

    response = patient_client.post(
        url("messaging:patient_new", patient),
        new_message(provider, attachment=upload("sample.pdf")),
    )
    assert response.status_code == 403 and off in response.content.decode()

    # Past threads stay readable, without a reply form; a reply is refused.
    page = patient_client.get(url("messaging:patient_thread", patient, thread.public_id))
    assert page.status_code == 200
    assert "It hurts." in page.content.decode() and off in page.content.decode()
    assert 'name="body"' not in page.content.decode()
    response = patient_client.post(
        url("messaging:patient_thread", patient, thread.public_id), {"body": "Still there?"}
    )
    assert response.status_code == 403 and off in response.content.decode()
    assert Thread.objects.count() == 1 and Message.objects.count() == 1
    assert stored(stored_files) == []


def _foreign_thread(practice, admin, provider):
    """A thread with an attachment of another chart of `practice`."""
    other = factories.make_patient(practice)
    other_account = factories.enroll(admin, other)
    return start(other_account, other, provider, upload=upload("sample.txt"))


def _assert_out_of_reach(client, patient, theirs) -> None:
    """Another chart's thread, asked for under `patient`'s record: 404 to read, to answer and
    to download its attachment; nothing added."""
    attachment = Attachment.objects.get(message__thread=theirs)
    thread_url = url("messaging:patient_thread", patient, theirs.public_id)
    assert client.get(thread_url).status_code == 404
    assert client.post(thread_url, {"body": "Hi"}).status_code == 404
    download = url("messaging:patient_attachment", patient, theirs.public_id, attachment.public_id)
    assert client.get(download).status_code == 404
    assert Message.objects.filter(thread=theirs).count() == 1


def test_another_patients_thread_is_a_404(patient_client, patient, practice, admin, provider):
    _assert_out_of_reach(patient_client, patient, _foreign_thread(practice, admin, provider))


def test_another_practices_thread_is_a_404(patient_client, patient, other_practice):
    other_admin = factories.make_admin(other_practice)
    other_provider = factories.make_staff(other_practice, role=Role.PROVIDER, credential="MD")
    practice_services.messaging_settings_set(other_admin, practice=other_practice, enabled=True)
    theirs = _foreign_thread(other_practice, other_admin, other_provider)
    _assert_out_of_reach(patient_client, patient, theirs)


def test_an_attachment_of_another_thread_is_a_404_under_ones_own_thread(
    patient_client, patient, account, provider, practice, admin
):
    mine = start(account, patient, provider)
    theirs = _foreign_thread(practice, admin, provider)
    attachment = Attachment.objects.get(message__thread=theirs)
    download = url("messaging:patient_attachment", patient, mine.public_id, attachment.public_id)
    assert patient_client.get(download).status_code == 404


def test_another_accounts_record_is_a_404_on_every_messaging_url(
    client, patient, account, provider, practice, admin, messaging_on
):
    thread = start(account, patient, provider, upload=upload("sample.txt"))
    attachment = Attachment.objects.get()
    stranger = factories.enroll(admin, factories.make_patient(practice))
    sign_in(client, stranger)
    urls = _every_patient_url(patient, thread, attachment)
    urls["settings"] = url("messaging:patient_settings", patient)
    for name, path in urls.items():
        assert client.get(path).status_code in (404, 405), name
        assert client.post(path, {"body": "x", "enabled": "on"}).status_code == 404, name
    assert Message.objects.count() == 1
    assert record_update_emails_enabled(patient)


# --- Writing a message ----------------------------------------------------------------------


def test_the_compose_page_has_the_urgent_notice_and_one_file_of_the_allowed_kinds(
    patient_client, patient, provider
):
    response = patient_client.get(url("messaging:patient_new", patient))
    html = response.content.decode()
    assert response.status_code == 200
    assert URGENT in html
    assert 'enctype="multipart/form-data"' in html
    assert 'type="file"' in html and "multiple" not in html
    assert 'accept=".pdf,.txt,.xml,.gif,.jpeg,.jpg,.png,' in html
    assert 'maxlength="20000"' in html
    assert "Dr. Paula Provider, MD" in html
    assert f'value="{ThreadKind.RENEWAL.value}"' not in html
    assert AuditEvent.objects.filter(action="message.list", details__page="new").exists()


def test_a_message_is_sent_and_the_patient_lands_on_the_new_thread(
    patient_client, patient, provider, account
):
    response = patient_client.post(url("messaging:patient_new", patient), new_message(provider))
    thread = Thread.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url("messaging:patient_thread", patient, thread.public_id)
    assert (thread.provider, thread.kind, thread.started_by) == (
        provider,
        ThreadKind.MEDICAL,
        account,
    )
    assert thread.messages.get().body == "It hurts when I walk.\nSince Monday."
    page = patient_client.get(response["Location"])
    assert "Your message was sent." in page.content.decode()


@pytest.mark.parametrize("name", sorted(p.name for p in FILES.glob("sample.*")))
def test_a_file_of_each_allowed_kind_is_attached(patient_client, patient, provider, name):
    response = patient_client.post(
        url("messaging:patient_new", patient), new_message(provider, attachment=upload(name))
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    attachment = Attachment.objects.get()
    assert attachment.filename == name
    assert attachment.size == (FILES / name).stat().st_size


def _field_errors(response, field: str) -> str:
    return " ".join(str(e) for e in response.context["form"].errors.get(field, []))


def test_a_renamed_executable_is_refused_with_a_clear_message_and_nothing_is_stored(
    patient_client, patient, provider, stored_files
):
    response = patient_client.post(
        url("messaging:patient_new", patient),
        new_message(provider, attachment=upload("renamed-executable.pdf")),
    )
    assert response.status_code == 200
    assert str(attachments.NOT_ALLOWED) in _field_errors(response, "attachment")
    assert 'id="id_attachment_error"' in response.content.decode()
    nothing_stored(stored_files)


def test_25_mb_and_1_byte_is_refused(patient_client, patient, provider, stored_files):
    content = (FILES / "sample.pdf").read_bytes()
    content += b"\0" * (attachments.MAX_BYTES + 1 - len(content))
    response = patient_client.post(
        url("messaging:patient_new", patient),
        new_message(provider, attachment=upload("big.pdf", content)),
    )
    assert str(attachments.TOO_BIG) in _field_errors(response, "attachment")
    nothing_stored(stored_files)


def test_a_second_attachment_is_refused(patient_client, patient, provider, stored_files):
    response = patient_client.post(
        url("messaging:patient_new", patient),
        new_message(provider, attachment=[upload("sample.pdf"), upload("sample.png")]),
    )
    assert str(ONE_FILE_ONLY) in _field_errors(response, "attachment")
    nothing_stored(stored_files)


def test_empty_text_is_refused(patient_client, patient, provider, stored_files):
    response = patient_client.post(
        url("messaging:patient_new", patient),
        new_message(provider, body="   ", attachment=upload("sample.pdf")),
    )
    assert "This field is required." in _field_errors(response, "body")
    nothing_stored(stored_files)


def test_text_over_20000_characters_is_refused(patient_client, patient, provider, stored_files):
    response = patient_client.post(
        url("messaging:patient_new", patient), new_message(provider, body="a" * 20_001)
    )
    assert "20,000" in _field_errors(response, "body")
    assert "a" * 20_001 in response.content.decode()  # kept in the field to shorten
    nothing_stored(stored_files)


def test_text_of_exactly_20000_characters_is_sent(patient_client, patient, provider):
    response = patient_client.post(
        url("messaging:patient_new", patient), new_message(provider, body="a" * 20_000)
    )
    assert response.status_code == 302
    assert len(Message.objects.get().body) == 20_000


@pytest.mark.parametrize("who", ["other practice", "no credential", "staff", "unknown"])
def test_a_provider_of_another_practice_or_without_a_messaging_credential_is_refused(
    patient_client, patient, practice, other_practice, stored_files, who
):
    if who == "other practice":
        target = factories.make_staff(other_practice, role=Role.PROVIDER, credential="MD")
        provider_id = str(target.public_id)
    elif who == "no credential":
        provider_id = str(factories.make_staff(practice, role=Role.PROVIDER).public_id)
    elif who == "staff":
        provider_id = str(factories.make_staff(practice).public_id)
    else:
        provider_id = "not-a-provider"
    response = patient_client.post(
        url("messaging:patient_new", patient),
        {"provider": provider_id, "kind": ThreadKind.GENERAL, "subject": "Hi", "body": "Hello"},
    )
    assert response.status_code == 200
    assert _field_errors(response, "provider")
    nothing_stored(stored_files)


def test_only_providers_who_receive_messages_are_offered(patient_client, patient, practice):
    factories.make_staff(practice, role=Role.PROVIDER, full_name="Nina Nocredential")
    factories.make_staff(practice, full_name="Stan Staff")
    html = patient_client.get(url("messaging:patient_new", patient)).content.decode()
    assert "Dr. Paula Provider, MD" in html
    assert "Nina Nocredential" not in html and "Stan Staff" not in html


def test_a_message_type_outside_the_list_is_refused(patient_client, patient, provider):
    response = patient_client.post(
        url("messaging:patient_new", patient),
        new_message(provider, kind=ThreadKind.RENEWAL),  # renewals have their own page
    )
    assert _field_errors(response, "kind")
    assert Thread.objects.count() == 0


# --- Prescription renewal ---------------------------------------------------------------------


def test_a_renewal_request_names_shared_current_medications_and_a_pharmacy(
    patient_client, patient, provider
):
    metformin = builders.medication(patient)
    builders.medication(patient, shared=False, display="Hidden pill")
    builders.medication(patient, display="Old pill", status="stopped")
    page = patient_client.get(url("messaging:patient_renewal", patient))
    html = page.content.decode()
    assert URGENT in html
    assert "Metformin 500 mg tablet (1 tablet twice a day)" in html
    assert "Hidden pill" not in html and "Old pill" not in html
    assert 'value="Prescription renewal"' in html
    assert 'type="file"' not in html

    response = patient_client.post(
        url("messaging:patient_renewal", patient),
        {
            "medications": [str(metformin.public_id)],
            "pharmacy": "Main Street Pharmacy, (217) 555-0199",
            "provider": str(provider.public_id),
            "subject": "Prescription renewal",
            "body": "",
        },
    )
    thread = Thread.objects.get()
    assert response.status_code == 302
    assert thread.kind == ThreadKind.RENEWAL
    renewal = RenewalRequest.objects.get(thread=thread)
    assert list(renewal.medications.all()) == [metformin]
    assert renewal.pharmacy == "Main Street Pharmacy, (217) 555-0199"

    shown = patient_client.get(response["Location"]).content.decode()
    assert "Metformin 500 mg tablet" in shown and "Main Street Pharmacy" in shown
    assert "Waiting for an answer" in shown

    services.renewal_decide(provider, thread=thread, decision=RenewalDecision.SENT, body="Sent.")
    shown = patient_client.get(response["Location"]).content.decode()
    assert "Renewal sent" in shown and "Waiting for an answer" not in shown


def test_a_renewal_request_without_a_medication_or_pharmacy_is_refused(
    patient_client, patient, provider
):
    builders.medication(patient)
    response = patient_client.post(
        url("messaging:patient_renewal", patient),
        {"provider": str(provider.public_id), "subject": "Prescription renewal", "pharmacy": ""},
    )
    assert "Choose at least one medication to renew." in _field_errors(response, "medications")
    assert _field_errors(response, "pharmacy")
    assert 'href="#id_medications_0"' in response.content.decode()
    assert Thread.objects.count() == 0


def test_with_nothing_to_renew_the_page_says_so_and_offers_a_normal_message(
    patient_client, patient
):
    response = patient_client.get(url("messaging:patient_renewal", patient))
    html = response.content.decode()
    assert "There is nothing to renew" in html
    assert url("messaging:patient_new", patient) in html
    assert 'name="pharmacy"' not in html


# --- Reading and answering a thread -------------------------------------------------------


def test_opening_a_thread_clears_unread_and_writes_an_audit_row(
    patient_client, patient, account, provider
):
    thread = start(account, patient, provider, body="<script>alert(1)</script>\nSecond line")
    services.staff_reply(provider, thread=thread, body="Rest and ice.", upload=upload("sample.pdf"))
    assert Thread.objects.get().patient_unread

    response = patient_client.get(url("messaging:patient_thread", patient, thread.public_id))

    html = response.content.decode()
    assert response.status_code == 200
    assert not Thread.objects.get().patient_unread
    event = AuditEvent.objects.get(action="message.read", actor=account)
    assert event.details["thread"] == str(thread.public_id) and event.patient_id == patient.pk
    assert "&lt;script&gt;alert(1)&lt;/script&gt;<br>Second line" in html
    assert html.index("Second line") < html.index("Rest and ice.")  # oldest first
    assert "Dr. Paula Provider" in html
    attachment = Attachment.objects.get()
    download = url("messaging:patient_attachment", patient, thread.public_id, attachment.public_id)
    assert f'href="{download}"' in html and "sample.pdf" in html and "604\xa0bytes" in html
    assert URGENT in html and 'name="body"' in html


def test_the_thread_page_reads_a_fixed_number_of_queries_whatever_the_number_of_messages(
    patient_client, patient, account, provider
):
    thread = start(account, patient, provider, upload=upload("sample.txt"))
    path = url("messaging:patient_thread", patient, thread.public_id)
    small = _queries(patient_client, path)
    for i in range(8):
        services.staff_reply(
            provider, thread=thread, body=f"Answer {i}", upload=upload("sample.png")
        )
        services.patient_reply(
            account, access=access_of(patient), thread=thread, body=f"Thanks {i}"
        )
    large = _queries(patient_client, path)
    assert small == large


def test_the_renewal_thread_page_reads_a_fixed_number_of_queries(
    patient_client, patient, account, provider
):
    medications = [builders.medication(patient, display=f"Pill {i}") for i in range(5)]
    thread = start(
        account,
        patient,
        provider,
        kind=ThreadKind.RENEWAL,
        body="",
        medications=[str(medications[0].public_id)],
        pharmacy="Corner pharmacy",
    )
    path = url("messaging:patient_thread", patient, thread.public_id)
    small = _queries(patient_client, path)
    RenewalRequest.objects.get().medications.set(medications)
    for i in range(5):
        services.patient_reply(account, access=access_of(patient), thread=thread, body=f"More {i}")
    large = _queries(patient_client, path)
    assert small == large


def test_a_reply_is_sent_and_the_page_redirects(patient_client, patient, account, provider):
    thread = start(account, patient, provider)
    path = url("messaging:patient_thread", patient, thread.public_id)
    response = patient_client.post(
        path, {"body": "One more thing.", "attachment": upload("sample.jpg")}
    )
    assert response.status_code == 302 and response["Location"] == path
    reply = Message.objects.order_by("-id").first()
    assert reply.body == "One more thing." and reply.attachment.filename == "sample.jpg"
    assert "Your reply was sent." in patient_client.get(path).content.decode()


def test_a_reply_with_bad_input_is_refused_next_to_the_field(
    patient_client, patient, account, provider, stored_files
):
    thread = start(account, patient, provider)
    path = url("messaging:patient_thread", patient, thread.public_id)
    response = patient_client.post(path, {"body": ""})
    assert "This field is required." in _field_errors(response, "body")
    response = patient_client.post(
        path, {"body": "x", "attachment": [upload("sample.pdf"), upload("sample.txt")]}
    )
    assert str(ONE_FILE_ONLY) in _field_errors(response, "attachment")
    response = patient_client.post(
        path, {"body": "x", "attachment": upload("renamed-executable.pdf")}
    )
    assert str(attachments.NOT_ALLOWED) in _field_errors(response, "attachment")
    assert Message.objects.count() == 1 and stored(stored_files) == []


def test_reply_to_a_done_thread_is_refused_with_a_way_to_start_a_new_one(
    patient_client, patient, account, provider
):
    thread = start(account, patient, provider)
    services.thread_status_set(provider, thread=thread, status=ThreadStatus.DONE)
    path = url("messaging:patient_thread", patient, thread.public_id)

    page = patient_client.get(path).content.decode()
    assert str(services.THREAD_DONE_MESSAGE) in page
    assert 'name="body"' not in page
    assert url("messaging:patient_new", patient) in page

    response = patient_client.post(path, {"body": "But wait"})
    html = response.content.decode()
    assert str(services.THREAD_DONE_MESSAGE) in html and 'role="alert"' in html
    assert url("messaging:patient_new", patient) in html
    assert Message.objects.count() == 1


# --- Downloads ------------------------------------------------------------------------------


def test_download_sends_content_disposition_attachment_and_nosniff_and_writes_an_audit_row(
    patient_client, patient, account, provider
):
    thread = start(account, patient, provider, upload=upload("sample.pdf"))
    attachment = Attachment.objects.get()
    response = patient_client.get(
        url("messaging:patient_attachment", patient, thread.public_id, attachment.public_id)
    )
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="sample.pdf"'
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    assert b"".join(response.streaming_content) == (FILES / "sample.pdf").read_bytes()
    event = AuditEvent.objects.get(action="message.attachment_download")
    assert event.actor == account and event.details["by"] == "patient"
    assert event.details["attachment"] == str(attachment.public_id)


def test_a_download_whose_file_is_gone_is_a_404(
    patient_client, patient, account, provider, stored_files
):
    thread = start(account, patient, provider, upload=upload("sample.pdf"))
    attachment = Attachment.objects.get()
    for path in stored(stored_files):
        path.unlink()
    response = patient_client.get(
        url("messaging:patient_attachment", patient, thread.public_id, attachment.public_id)
    )
    assert response.status_code == 404


# --- Record-update emails setting ---------------------------------------------------------


def _checkbox(response) -> str:
    html = response.content.decode()
    start = html.index('<input type="checkbox" name="enabled"')
    return html[start : html.index(">", start) + 1]


def test_the_email_setting_is_saved_audited_and_shown(patient_client, patient, account):
    settings_url = url("messaging:patient_settings", patient)
    listing = url("messaging:patient_list", patient)
    assert _checkbox(patient_client.get(listing)).endswith(" checked>")

    response = patient_client.post(settings_url, {})
    assert response.status_code == 302 and response["Location"] == listing
    assert not record_update_emails_enabled(patient)
    assert AuditEvent.objects.filter(action="message.record_update_emails").count() == 1
    page = patient_client.get(listing)
    assert "checked" not in _checkbox(page)
    assert "We will not email you" in page.content.decode()

    patient_client.post(settings_url, {"enabled": "on"})
    assert record_update_emails_enabled(patient)


def test_the_email_setting_answers_only_a_post(patient_client, patient):
    response = patient_client.get(url("messaging:patient_settings", patient))
    assert response.status_code == 405


def test_an_account_with_records_at_two_practices_reaches_each_ones_messages_only_there(
    client, admin, practice, other_practice, patient, provider, messaging_on
):
    from portico.portal import registration

    account = factories.enroll(admin, patient, email="me@example.test")
    elsewhere = factories.make_patient(other_practice)
    other_admin = factories.make_admin(other_practice)
    other_provider = factories.make_staff(other_practice, role=Role.PROVIDER, credential="NP")
    practice_services.messaging_settings_set(other_admin, practice=other_practice, enabled=True)
    invitation = factories.invite(other_admin, elsewhere)
    registration.registration_link_account(account, invitation_id=str(invitation.public_id))
    theirs = start(account, elsewhere, other_provider, subject="Elsewhere only")
    sign_in(client, account)

    home = client.get(reverse("portal:home")).content.decode()
    assert url("messaging:patient_list", patient) in home
    assert url("messaging:patient_list", elsewhere) in home
    assert (
        "Elsewhere only" not in client.get(url("messaging:patient_list", patient)).content.decode()
    )
    assert "Elsewhere only" in client.get(url("messaging:patient_list", elsewhere)).content.decode()
    assert client.get(url("messaging:patient_thread", patient, theirs.public_id)).status_code == 404
    assert (
        client.get(url("messaging:patient_thread", elsewhere, theirs.public_id)).status_code == 200
    )
    # The compose page of each record offers that practice's providers only.
    compose = client.get(url("messaging:patient_new", patient)).content.decode()
    assert str(provider.public_id) in compose and str(other_provider.public_id) not in compose
