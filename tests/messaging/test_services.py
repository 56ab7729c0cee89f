"""The rules of secure messaging (SPEC §7), at the services every page and the API call."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404
from django.utils import timezone

from portico.audit.models import AuditEvent
from portico.charts import services as chart_services
from portico.charts.models import CLINICAL_LISTS
from portico.messaging import services
from portico.messaging.models import (
    Attachment,
    Message,
    RenewalDecision,
    Thread,
    ThreadStatus,
)
from portico.notifications.models import OutboundEmail
from portico.portal import services as portal_services
from portico.practices import services as practice_services
from portico.practices.models import Membership, Role
from tests import factories
from tests.charts.test_clinical_services import VALID

pytestmark = pytest.mark.django_db

FILES = Path(__file__).parent / "files"


def start(account, access, provider, **values):
    fields = {"kind": "general", "subject": "Knee", "body": "My knee still hurts after the run."}
    fields.update(values)
    return services.thread_start(account, access=access, provider=provider, **fields)


def pdf(name="scan.pdf"):
    return SimpleUploadedFile(name, (FILES / "sample.pdf").read_bytes())


def emails(kind, thread=None):
    found = OutboundEmail.objects.filter(kind=kind)
    return found.filter(subject_id=thread.public_id) if thread is not None else found


# --- Writing ------------------------------------------------------------------------------


def test_an_enrolled_patient_writes_to_a_provider_and_the_practice_hears_of_it(
    messaging_on, enrolled, provider
):
    account, access = enrolled

    thread = start(account, access, provider, upload=pdf())

    message = thread.messages.get()
    assert (thread.provider, thread.status, thread.practice_unread) == (provider, "open", True)
    assert message.from_patient and message.body == "My knee still hurts after the run."
    assert message.attachment.filename == "scan.pdf"
    assert message.attachment.content_type == "application/pdf"
    assert emails(services.PRACTICE_EMAIL, thread).get().to_address == provider.email
    event = AuditEvent.objects.get(action="message.thread_start")
    assert event.patient == access.patient and event.actor == account
    assert "Knee" not in str(event.details) and "knee" not in str(event.details)


def test_with_messaging_off_the_patient_cannot_write(practice, enrolled, provider):
    account, access = enrolled
    with pytest.raises(PermissionDenied) as refused:
        start(account, access, provider)
    assert str(refused.value) == str(services.MESSAGING_OFF_MESSAGE)
    assert not Thread.objects.exists()


def test_a_revoked_patient_cannot_write_and_what_they_sent_stays(
    messaging_on, enrolled, provider, admin
):
    account, access = enrolled
    thread = start(account, access, provider)
    portal_services.access_revoke(admin, patient=access.patient)
    access.refresh_from_db()

    with pytest.raises(PermissionDenied):
        start(account, access, provider)
    with pytest.raises(PermissionDenied):
        services.patient_reply(account, access=access, thread=thread, body="Hello?")
    assert Thread.objects.get() == thread and thread.messages.count() == 1


def test_turning_messaging_off_stops_replies_but_keeps_the_threads(
    messaging_on, enrolled, provider, admin, practice
):
    account, access = enrolled
    thread = start(account, access, provider)
    practice_services.messaging_settings_set(admin, practice=practice, enabled=False)

    with pytest.raises(PermissionDenied):
        services.patient_reply(account, access=access, thread=thread, body="Still there?")
    assert Message.objects.filter(thread=thread).count() == 1


def test_another_accounts_access_is_not_found(messaging_on, enrolled, provider, admin, practice):
    account, access = enrolled
    stranger = factories.enroll(admin, factories.make_patient(practice))
    with pytest.raises(Http404):
        start(stranger, access, provider)


@pytest.mark.parametrize(
    "values, field",
    [
        ({"body": ""}, "body"),
        ({"body": "   "}, "body"),
        ({"body": "x" * 20_001}, "body"),
        ({"subject": ""}, "subject"),
        ({"subject": "s" * 201}, "subject"),
        ({"kind": "gossip"}, "kind"),
    ],
)
def test_bad_input_gets_a_message_by_field_and_stores_nothing(
    messaging_on, enrolled, provider, values, field, saved_files
):
    account, access = enrolled
    with pytest.raises(ValidationError) as refused:
        start(account, access, provider, upload=pdf(), **values)
    assert field in refused.value.message_dict
    assert not Thread.objects.exists() and not Attachment.objects.exists()
    assert saved_files == []


def test_text_of_exactly_20000_characters_is_accepted(messaging_on, enrolled, provider):
    account, access = enrolled
    assert len(start(account, access, provider, body="y" * 20_000).messages.get().body) == 20_000


def test_a_provider_of_another_practice_is_refused(messaging_on, enrolled, other_practice):
    account, access = enrolled
    elsewhere = factories.make_staff(other_practice, role=Role.PROVIDER, credential="MD")
    with pytest.raises(ValidationError) as refused:
        start(account, access, elsewhere)
    assert "provider" in refused.value.message_dict


@pytest.mark.parametrize("role, credential", [(Role.PROVIDER, ""), (Role.STAFF, "MD")])
def test_someone_without_a_messaging_credential_is_refused(
    messaging_on, enrolled, practice, role, credential
):
    account, access = enrolled
    person = factories.make_staff(practice, role=role, credential=credential)
    with pytest.raises(ValidationError):
        start(account, access, person)


@pytest.mark.parametrize("credential", ["MD", "DO", "NP", "PA"])
def test_each_messaging_credential_may_receive(messaging_on, enrolled, practice, credential):
    account, access = enrolled
    person = factories.make_staff(practice, role=Role.PROVIDER, credential=credential)
    assert start(account, access, person).provider == person
    assert person in [m.user for m in services.messaging_providers(practice)]


def test_a_provider_who_left_the_practice_no_longer_receives(
    messaging_on, enrolled, provider, practice
):
    account, access = enrolled
    Membership.objects.filter(user=provider).update(is_active=False)
    with pytest.raises(ValidationError):
        start(account, access, provider)
    assert services.messaging_providers(practice) == []


def test_a_renamed_executable_is_refused_and_nothing_is_left(
    messaging_on, enrolled, provider, saved_files
):
    account, access = enrolled
    executable = SimpleUploadedFile("scan.pdf", (FILES / "renamed-executable.pdf").read_bytes())
    with pytest.raises(ValidationError) as refused:
        start(account, access, provider, upload=executable)
    assert "can't be attached" in refused.value.message_dict["attachment"][0]
    assert not Thread.objects.exists() and saved_files == []


def test_a_send_that_fails_after_the_file_was_stored_leaves_no_message_and_no_file(
    messaging_on, enrolled, provider, saved_files, monkeypatch
):
    account, access = enrolled

    def broken(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(Attachment.objects, "create", broken)
    with pytest.raises(RuntimeError):
        start(account, access, provider, upload=pdf())

    assert not Thread.objects.exists() and not Message.objects.exists()
    storage = Attachment._meta.get_field("file").storage
    assert len(saved_files) == 1 and not storage.exists(saved_files[0])


def test_the_stored_file_has_a_random_name_not_the_patients(messaging_on, enrolled, provider):
    account, access = enrolled
    thread = start(account, access, provider, upload=pdf("hiv-test-result.pdf"))
    attachment = thread.messages.get().attachment
    assert "hiv" not in attachment.file.name
    assert attachment.file.read() == (FILES / "sample.pdf").read_bytes()


# --- Threads, replies, done -----------------------------------------------------------------


def test_the_practice_answers_and_the_patient_hears_of_it(messaging_on, enrolled, provider):
    account, access = enrolled
    thread = start(account, access, provider)

    services.staff_reply(provider, thread=thread, body="Please ice it and rest.")

    thread.refresh_from_db()
    assert thread.patient_unread and not thread.practice_unread and not thread.awaiting_practice
    assert emails(services.PATIENT_EMAIL, thread).get().to_address == account.email
    assert thread.messages.count() == 2


def test_a_done_thread_takes_no_reply_from_the_patient(
    messaging_on, enrolled, provider, saved_files
):
    account, access = enrolled
    thread = start(account, access, provider)
    services.thread_status_set(provider, thread=thread, status=ThreadStatus.DONE)

    with pytest.raises(ValidationError) as refused:
        services.patient_reply(account, access=access, thread=thread, body="One more", upload=pdf())

    assert refused.value.message_dict["body"] == [str(services.THREAD_DONE_MESSAGE)]
    assert thread.messages.count() == 1
    storage = Attachment._meta.get_field("file").storage
    assert all(not storage.exists(name) for name in saved_files)
    # The patient may open a new one.
    assert start(account, access, provider).pk != thread.pk


def test_a_patient_cannot_reply_in_another_patients_thread(
    messaging_on, enrolled, provider, admin, practice
):
    account, access = enrolled
    other_account = factories.enroll(admin, factories.make_patient(practice))
    other_access = other_account.portal_accesses.get()
    theirs = start(other_account, other_access, provider)
    with pytest.raises(Http404):
        services.patient_reply(account, access=access, thread=theirs, body="Hi")


def test_staff_not_chosen_by_the_administrator_cannot_read_or_answer(
    messaging_on, enrolled, provider, staff, admin, practice
):
    account, access = enrolled
    thread = start(account, access, provider)
    with pytest.raises(PermissionDenied):
        services.staff_reply(staff, thread=thread, body="Hello")
    with pytest.raises(PermissionDenied):
        services.thread_read_by_staff(staff, thread=thread)

    member = Membership.objects.get(user=staff)
    practice_services.message_helpers_set(admin, practice=practice, allowed_member_ids={member.pk})
    services.staff_reply(staff, thread=thread, body="Hello, this is the front desk.")
    assert thread.messages.count() == 2


def test_staff_of_another_practice_cannot_answer(messaging_on, enrolled, provider, outsider):
    account, access = enrolled
    thread = start(account, access, provider)
    with pytest.raises(PermissionDenied):
        services.staff_reply(outsider, thread=thread, body="Hi")


def test_every_open_of_a_thread_by_staff_is_audited(messaging_on, enrolled, provider):
    account, access = enrolled
    thread = start(account, access, provider)
    services.thread_read_by_staff(provider, thread=thread)
    services.thread_read_by_staff(provider, thread=thread)

    reads = AuditEvent.objects.filter(action="message.read", actor=provider)
    assert reads.count() == 2 and reads.first().patient == access.patient
    assert not Thread.objects.get().practice_unread


def test_assigning_to_another_provider_emails_them(messaging_on, enrolled, provider, practice):
    account, access = enrolled
    thread = start(account, access, provider)
    colleague = factories.make_staff(practice, role=Role.PROVIDER, credential="NP")

    assert services.thread_assign(provider, thread=thread, provider=str(colleague.public_id))

    assert Thread.objects.get().provider == colleague
    assert emails(services.PRACTICE_EMAIL, thread).filter(to_address=colleague.email).exists()
    assert AuditEvent.objects.filter(action="message.assign").exists()


def test_assigning_to_a_provider_of_another_practice_is_refused(
    messaging_on, enrolled, provider, other_practice
):
    account, access = enrolled
    thread = start(account, access, provider)
    elsewhere = factories.make_staff(other_practice, role=Role.PROVIDER, credential="MD")
    with pytest.raises(ValidationError):
        services.thread_assign(provider, thread=thread, provider=elsewhere)
    with pytest.raises(ValidationError):
        services.thread_assign(provider, thread=thread, provider="not-an-id")
    assert Thread.objects.get().provider == provider


def test_file_to_chart_files_once_and_is_audited(messaging_on, enrolled, provider):
    account, access = enrolled
    thread = start(account, access, provider)
    assert services.thread_file(provider, thread=thread)
    assert not services.thread_file(provider, thread=thread)
    thread.refresh_from_db()
    assert thread.filed_by == provider and thread.filed_at is not None
    assert AuditEvent.objects.filter(action="message.file").count() == 1


def test_with_automatic_filing_on_a_new_thread_is_filed_at_once(
    messaging_on, enrolled, provider, admin, practice
):
    practice_services.messaging_settings_set(admin, practice=practice, auto_file=True)
    account, access = enrolled
    thread = start(account, access, provider)
    assert thread.filed_at is not None and thread.filed_by is None


def test_messaging_settings_are_for_administrators_and_audited(practice, admin, provider):
    with pytest.raises(PermissionDenied):
        practice_services.messaging_settings_set(provider, practice=practice, enabled=True)
    assert practice_services.messaging_settings_set(
        admin, practice=practice, enabled=True, auto_file=True
    ) == ["enabled", "auto_file"]
    assert practice_services.messaging_settings_set(admin, practice=practice, enabled=True) == []
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"settings.messaging_enabled", "settings.messaging_auto_file"} <= actions
    with pytest.raises(ValidationError):
        practice_services.messaging_settings_set(admin, practice=practice, enabled="yes")


# --- Prescription renewals --------------------------------------------------------------------


@pytest.fixture
def medications(provider, patient):
    model = CLINICAL_LISTS["medications"]

    def add(**extra):
        values = {**VALID["medications"], **extra}
        return chart_services.item_create(provider, patient=patient, model=model, **values)

    current = add()
    hidden = add(shared_with_patient=False)
    stopped = add(status="stopped", stop_date=timezone.localdate())
    return current, hidden, stopped


def renewal(account, access, provider, medications, **values):
    fields = {
        "kind": "renewal",
        "subject": "Renewal",
        "body": "",
        "medications": [str(m.public_id) for m in medications],
        "pharmacy": "Main Street Pharmacy, (217) 555-0199",
    }
    fields.update(values)
    return services.thread_start(account, access=access, provider=provider, **fields)


def test_a_renewal_request_names_shared_current_medications_and_a_pharmacy(
    messaging_on, enrolled, provider, medications
):
    account, access = enrolled
    current, _hidden, _stopped = medications
    assert list(services.renewable_medications(access.patient)) == [current]

    thread = renewal(account, access, provider, [current])

    assert list(thread.renewal.medications.all()) == [current]
    assert thread.renewal.pharmacy.startswith("Main Street")


@pytest.mark.parametrize("which", [1, 2])
def test_a_renewal_of_an_unshared_or_stopped_medication_is_refused(
    messaging_on, enrolled, provider, medications, which
):
    account, access = enrolled
    with pytest.raises(ValidationError) as refused:
        renewal(account, access, provider, [medications[which]])
    assert "medications" in refused.value.message_dict


def test_a_renewal_needs_a_medication_and_a_pharmacy(messaging_on, enrolled, provider, medications):
    account, access = enrolled
    with pytest.raises(ValidationError) as refused:
        renewal(account, access, provider, [], pharmacy="")
    assert {"medications", "pharmacy"} <= refused.value.message_dict.keys()


def test_the_provider_answers_a_renewal_once_and_the_patient_hears_of_it(
    messaging_on, enrolled, provider, medications
):
    account, access = enrolled
    thread = renewal(account, access, provider, [medications[0]])

    answer = services.renewal_decide(
        provider, thread=thread, decision=RenewalDecision.NEEDS_VISIT, body="Book a check-up."
    )

    assert answer.renewal_decision == "needs_visit" and not answer.from_patient
    thread.renewal.refresh_from_db()
    assert (thread.renewal.decision, thread.renewal.decided_by) == ("needs_visit", provider)
    assert emails(services.PATIENT_EMAIL, thread).count() == 1
    with pytest.raises(ValidationError):
        services.renewal_decide(provider, thread=thread, decision=RenewalDecision.SENT)
    with pytest.raises(ValidationError):
        services.renewal_decide(provider, thread=start(account, access, provider), decision="sent")


def test_an_unknown_renewal_answer_is_refused(messaging_on, enrolled, provider, medications):
    account, access = enrolled
    thread = renewal(account, access, provider, [medications[0]])
    with pytest.raises(ValidationError):
        services.renewal_decide(provider, thread=thread, decision="maybe")


# --- Notification rate -------------------------------------------------------------------------


def test_a_burst_of_replies_sends_one_email_per_thread_and_side_per_quarter_hour(
    messaging_on, enrolled, provider
):
    account, access = enrolled
    with time_machine.travel(dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC), tick=False) as clock:
        thread = start(account, access, provider)
        for minute in range(1, 5):
            clock.move_to(dt.datetime(2026, 11, 30, 9, minute, tzinfo=dt.UTC))
            services.patient_reply(account, access=access, thread=thread, body=f"And {minute}")
            services.staff_reply(provider, thread=thread, body=f"Noted {minute}")
        assert emails(services.PRACTICE_EMAIL, thread).count() == 1
        assert emails(services.PATIENT_EMAIL, thread).count() == 1

        clock.move_to(dt.datetime(2026, 11, 30, 9, 16, tzinfo=dt.UTC))
        services.patient_reply(account, access=access, thread=thread, body="Later")
        services.staff_reply(provider, thread=thread, body="Later too")
    assert emails(services.PRACTICE_EMAIL, thread).count() == 2
    assert emails(services.PATIENT_EMAIL, thread).count() == 2


def test_another_thread_gets_its_own_email(messaging_on, enrolled, provider):
    account, access = enrolled
    start(account, access, provider)
    start(account, access, provider)
    assert emails(services.PRACTICE_EMAIL).count() == 2


def test_a_revoked_patient_is_not_emailed_about_a_reply(messaging_on, enrolled, provider, admin):
    account, access = enrolled
    thread = start(account, access, provider)
    portal_services.access_revoke(admin, patient=access.patient)
    services.staff_reply(provider, thread=thread, body="Answer")
    assert not emails(services.PATIENT_EMAIL).exists()


# --- Record update emails ------------------------------------------------------------------------


def _lab(provider, patient, **extra):
    return chart_services.item_create(
        provider, patient=patient, model=CLINICAL_LISTS["labs"], **{**VALID["labs"], **extra}
    )


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """A block whose after-commit work runs at its end, as it does in production."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def record_emails():
    return OutboundEmail.objects.filter(kind="messaging.record_update")


def test_a_newly_shared_result_emails_the_patient_at_most_once_a_day(
    enrolled, provider, patient, committed
):
    account, _access = enrolled
    with time_machine.travel(dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC), tick=False) as clock:
        with committed():
            lab = _lab(provider, patient)
            chart_services.item_share(provider, item=lab, shared=True)
        with committed():
            _lab(provider, patient, shared_with_patient=True)
        assert record_emails().get().to_address == account.email
        clock.move_to(timezone.now() + dt.timedelta(days=1, minutes=1))
        with committed():
            _lab(provider, patient, shared_with_patient=True)
    assert record_emails().count() == 2


def test_a_patient_who_turned_record_emails_off_gets_none(enrolled, provider, patient, committed):
    account, access = enrolled
    assert services.record_update_emails_set(account, access=access, enabled=False)
    with committed():
        _lab(provider, patient, shared_with_patient=True)
    assert not record_emails().exists()
    assert AuditEvent.objects.filter(action="message.record_update_emails").exists()


def test_an_unshared_result_or_a_patient_not_enrolled_gets_no_record_email(
    enrolled, provider, patient, practice, committed
):
    with committed():
        _lab(provider, patient)  # labs start unshared
        _lab(provider, factories.make_patient(practice), shared_with_patient=True)
    assert not record_emails().exists()


def test_a_shared_signed_visit_summary_emails_the_patient(enrolled, provider, patient, committed):
    encounter = chart_services.encounter_create(
        provider, patient=patient, visit_date=dt.date(2026, 11, 2), note="Seen."
    )
    with committed():
        chart_services.encounter_share(provider, encounter=encounter, note_shared=True)
    assert not record_emails().exists()  # not signed yet: the patient cannot see it
    with committed():
        chart_services.encounter_sign(provider, encounter=encounter)
    assert record_emails().count() == 1


def test_the_helpers_list_leaves_a_providers_own_flag_as_it_is(practice, admin, provider, staff):
    provider_membership = Membership.objects.get(user=provider)
    Membership.objects.filter(pk=provider_membership.pk).update(may_answer_messages=True)
    staff_membership = Membership.objects.get(user=staff)

    changed = practice_services.message_helpers_set(
        admin, practice=practice, allowed_member_ids={staff_membership.pk}
    )

    assert [m.user for m in changed] == [staff]
    provider_membership.refresh_from_db()
    assert provider_membership.may_answer_messages  # not in the list, yet untouched
