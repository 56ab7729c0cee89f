"""The messaging emails (SPEC §7.4), delivered through a real SMTP server: they say that
something is waiting and link to it, never what it is; one per thread and side per quarter
hour; the "something new in your record" email at most once a day, with an opt-out."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from portico.charts import services as chart_services
from portico.charts.models import CLINICAL_LISTS
from portico.messaging import emails as messaging_emails
from portico.messaging import services
from portico.notifications.models import EmailState, OutboundEmail
from portico.notifications.rendering import renderer_for
from portico.notifications.services import outbox_drain
from portico.portal import services as portal_services
from portico.portal.models import PortalAccess
from portico.practices import services as practice_services
from portico.practices.models import Membership, Role
from tests import factories
from tests.smtp import django_sends_to_it

START = dt.datetime(2026, 11, 30, 14, 0, tzinfo=dt.UTC)
BASE = "http://testserver"

# What a thread says and who is in it: none of it may be in an email.
SUBJECT = "Rash on my left forearm"
BODY = "The itching started after the lisinopril dose went up."
REPLY = "Please stop the cream and send a photo tomorrow."
FILENAME = "forearm-rash-diary.txt"
LAB = {
    "code": "4548-4",
    "value": "9.7",
    "unit": "%",
    "reference_low": "4.0",
    "reference_high": "5.6",
    "recorded_on": dt.date(2026, 11, 29),
}
NOTE = "Follow-up for uncontrolled diabetes; discussed insulin."


@pytest.fixture
def smtp(settings):
    """A real local SMTP server (aiosmtpd) that Django's SMTP backend sends to."""
    with django_sends_to_it(settings) as server:
        yield server


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """`with committed():` runs what the block's transactions queue after commit (the email
    drain), as production does."""

    def make():
        return django_capture_on_commit_callbacks(execute=True)

    return make


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def world(practice, admin, provider, clock):
    practice_services.messaging_settings_set(admin, practice=practice, enabled=True)
    patient = factories.make_patient(
        practice, legal_first_name="Jordan", legal_last_name="Rivera", email="jordan@example.test"
    )
    account = factories.enroll(admin, patient)
    access = PortalAccess.objects.get(patient=patient)
    return {"patient": patient, "account": account, "access": access, "provider": provider}


def start_thread(world, **kwargs):
    return services.thread_start(
        world["account"],
        access=world["access"],
        provider=world["provider"],
        kind="medical",
        subject=SUBJECT,
        body=BODY,
        **kwargs,
    )


def patient_reply(world, thread, body=BODY):
    return services.patient_reply(
        world["account"], access=world["access"], thread=thread, body=body
    )


def parts(received) -> tuple[str, str, str]:
    msg = received["message"]
    text = msg.get_body(preferencelist=("plain",)).get_content()
    html = msg.get_body(preferencelist=("html",)).get_content()
    return str(msg["Subject"]), text, html


def to(smtp, address: str) -> list:
    return [m for m in smtp.messages if m["rcpt_tos"] == [address]]


def assert_no_content(received, *secrets: str) -> None:
    subject, text, html = parts(received)
    raw = received["message"].as_string()
    for secret in secrets:
        for where, content in (("subject", subject), ("text", text), ("html", html)):
            assert secret.lower() not in content.lower(), (secret, where)
        assert secret not in raw, secret


def thread_secrets(world) -> tuple[str, ...]:
    patient = world["patient"]
    return (
        SUBJECT,
        BODY,
        REPLY,
        FILENAME,
        "forearm",
        "lisinopril",
        patient.legal_first_name,
        patient.legal_last_name,
        "Paula",
        "Provider",
        "Medical question",
        str(patient.date_of_birth),
    )


# --- What the emails say -----------------------------------------------------------------


def test_a_patients_new_message_emails_the_provider_a_link_and_nothing_else(
    world, smtp, committed, provider
):
    with committed():
        thread = start_thread(
            world, upload=SimpleUploadedFile(FILENAME, b"Day 1: itching at night\n")
        )

    (received,) = smtp.messages
    assert received["rcpt_tos"] == [provider.email]
    subject, text, html = parts(received)
    link = f"{BASE}/ehr/messages/{thread.public_id}/"
    assert link in text and f'href="{link}"' in html
    assert subject == "New patient message in Portico"
    assert "Riverside Clinic" in text
    assert received["message"]["Content-Language"] == "en"
    assert_no_content(received, *thread_secrets(world), "Day 1", "itching")
    stored = OutboundEmail.objects.get(kind=services.PRACTICE_EMAIL)
    assert stored.state == EmailState.SENT and stored.subject_id == thread.public_id


def test_a_reply_by_the_practice_emails_the_patient_a_portal_link_and_nothing_else(
    world, smtp, committed, provider
):
    thread = start_thread(world)
    with committed():
        services.staff_reply(provider, thread=thread, body=REPLY)

    (received,) = to(smtp, world["account"].email)
    subject, text, html = parts(received)
    link = f"{BASE}/portal/records/{world['access'].public_id}/messages/{thread.public_id}/"
    assert link in text and f'href="{link}"' in html
    assert subject == "You have a new message in your patient portal"
    assert received["message"]["From"] == "Riverside Clinic <notifications@testserver>"
    assert_no_content(received, *thread_secrets(world), "stop the cream")


def test_a_patient_email_is_in_the_language_chosen_when_it_was_queued(
    world, smtp, committed, provider
):
    account = world["account"]
    account.language = "es"
    account.save(update_fields=["language"])
    thread = start_thread(world)
    with committed():
        services.staff_reply(provider, thread=thread, body=REPLY)

    (received,) = to(smtp, account.email)
    subject, text, html = parts(received)
    assert received["message"]["Content-Language"] == "es"
    assert subject == "Tiene un mensaje nuevo en su portal del paciente"
    assert '<html lang="es">' in html and "Hola" in text


def test_a_renewal_answer_emails_the_patient_without_the_decision(
    world, smtp, committed, provider, practice
):
    medication = chart_services.item_create(
        provider,
        patient=world["patient"],
        model=CLINICAL_LISTS["medications"],
        code="29046",
        instructions="10 mg daily",
        recorded_on=dt.date(2026, 1, 5),
    )
    thread = services.thread_start(
        world["account"],
        access=world["access"],
        provider=provider,
        kind="renewal",
        subject="Renewal please",
        body="",
        medications=[str(medication.public_id)],
        pharmacy="Main Street Pharmacy",
    )
    with committed():
        services.renewal_decide(provider, thread=thread, decision="needs_visit", body="Come in.")

    (received,) = to(smtp, world["account"].email)
    assert_no_content(
        received,
        medication.display,
        "10 mg",
        "Main Street",
        "Needs a visit",
        "Come in",
        "Renewal",
        "renewal",
    )


# --- Who is emailed, and how often --------------------------------------------------------


def test_a_reply_by_the_patient_emails_the_provider_and_one_by_staff_emails_the_patient(
    world, smtp, committed, provider, clock
):
    with committed():
        thread = start_thread(world)  # its email is not under test here
    smtp.messages.clear()
    clock.shift(dt.timedelta(minutes=20))
    with committed():
        patient_reply(world, thread)
    assert [m["rcpt_tos"] for m in smtp.messages] == [[provider.email]]

    with committed():
        services.staff_reply(provider, thread=thread, body=REPLY)
    assert [m["rcpt_tos"] for m in smtp.messages] == [[provider.email], [world["account"].email]]


def test_a_burst_sends_one_email_per_thread_and_side_per_quarter_hour(
    world, smtp, committed, provider, clock
):
    patient_email, provider_email = world["account"].email, provider.email
    with committed():
        first = start_thread(world)
        clock.shift(dt.timedelta(minutes=1))
        second = start_thread(world)
        for minute in range(3):
            clock.shift(dt.timedelta(minutes=1))
            services.staff_reply(provider, thread=first, body=f"{REPLY} ({minute})")
            patient_reply(world, first, body=f"{BODY} ({minute})")
        services.staff_reply(provider, thread=second, body=REPLY)
    assert len(to(smtp, provider_email)) == 2  # one for each new thread
    assert len(to(smtp, patient_email)) == 2  # one for each thread's first answer

    clock.shift(dt.timedelta(minutes=5))  # 9 minutes after the first email of each side
    with committed():
        services.staff_reply(provider, thread=first, body=REPLY)
        patient_reply(world, first)
    assert len(smtp.messages) == 4

    clock.shift(dt.timedelta(minutes=8))  # past the quarter hour for both sides of `first`
    with committed():
        services.staff_reply(provider, thread=first, body=REPLY)
        services.staff_reply(provider, thread=first, body=REPLY)
        patient_reply(world, first)
    assert len(to(smtp, provider_email)) == 3
    assert len(to(smtp, patient_email)) == 3
    links = {parts(m)[1].split("http", 1)[1].split()[0] for m in to(smtp, patient_email)}
    assert len(links) == 2  # the two threads, each with its own link


def test_reassigning_emails_the_new_provider_at_once(world, smtp, committed, provider, practice):
    newcomer = factories.make_staff(
        practice, role=Role.PROVIDER, credential="NP", full_name="Nell Newman"
    )
    with committed():
        thread = start_thread(world)
        services.thread_assign(provider, thread=thread, provider=newcomer)

    assert [m["rcpt_tos"] for m in smtp.messages] == [[provider.email], [newcomer.email]]
    link = f"{BASE}/ehr/messages/{thread.public_id}/"
    assert link in parts(smtp.messages[1])[1]
    assert_no_content(smtp.messages[1], *thread_secrets(world), "Nell", "Newman")


# --- An email that no longer applies is not sent -----------------------------------------


def test_a_patient_email_is_skipped_when_the_access_was_revoked_before_sending(
    world, smtp, provider, admin
):
    thread = start_thread(world)
    services.staff_reply(provider, thread=thread, body=REPLY)  # queued, not yet sent
    portal_services.access_revoke(admin, patient=world["patient"])

    outbox_drain()

    stored = OutboundEmail.objects.get(kind=services.PATIENT_EMAIL)
    assert stored.state == EmailState.SKIPPED
    assert to(smtp, world["account"].email) == []


def test_a_practice_email_is_skipped_when_the_provider_left_the_practice(world, smtp, provider):
    start_thread(world)
    Membership.objects.filter(user=provider).update(is_active=False)

    outbox_drain()

    assert OutboundEmail.objects.get(kind=services.PRACTICE_EMAIL).state == EmailState.SKIPPED
    assert smtp.messages == []


def test_a_renderer_skips_an_email_about_something_gone(db):
    class Gone:
        subject_id = "00000000-0000-4000-8000-000000000000"
        to_address = "someone@example.test"

    for kind in (services.PATIENT_EMAIL, services.PRACTICE_EMAIL, "messaging.record_update"):
        assert renderer_for(kind)(Gone()) is None
    assert renderer_for(services.PATIENT_EMAIL) is messaging_emails.render_new_for_patient


# --- "Something new in your record" ------------------------------------------------------


def share_lab(provider, patient, **extra):
    return chart_services.item_create(
        provider,
        patient=patient,
        model=CLINICAL_LISTS["labs"],
        **{**LAB, "shared_with_patient": True, **extra},
    )


def record_secrets(world, lab=None) -> tuple[str, ...]:
    found = (NOTE, "diabetes", "insulin", LAB["value"], LAB["code"], "Rivera", "Jordan")
    return found + ((lab.display,) if lab is not None and lab.display else ())


def test_a_newly_shared_lab_result_emails_the_patient_a_record_link_and_nothing_else(
    world, smtp, committed, provider
):
    with committed():
        lab = share_lab(provider, world["patient"])

    (received,) = smtp.messages
    assert received["rcpt_tos"] == [world["account"].email]
    subject, text, html = parts(received)
    link = f"{BASE}/portal/records/{world['access'].public_id}/"
    assert link in text and f'href="{link}"' in html
    assert subject == "There is something new in your health record"
    assert_no_content(received, *record_secrets(world, lab), "A1c", "Hemoglobin")
    assert OutboundEmail.objects.filter(kind="messaging.record_update").count() == 1


def test_a_lab_result_shared_later_emails_the_patient_too(world, smtp, committed, provider):
    lab = chart_services.item_create(
        provider, patient=world["patient"], model=CLINICAL_LISTS["labs"], **LAB
    )
    assert smtp.messages == []  # not shared yet
    with committed():
        chart_services.item_share(provider, item=lab, shared=True)
    assert len(smtp.messages) == 1


def test_a_signed_shared_visit_summary_emails_the_patient(world, smtp, committed, provider):
    encounter = chart_services.encounter_create(
        provider, patient=world["patient"], visit_date=dt.date(2026, 11, 30), note=NOTE
    )
    chart_services.encounter_share(provider, encounter=encounter, note_shared=True)
    assert smtp.messages == []  # shared but not signed: the patient does not see it yet
    with committed():
        chart_services.encounter_sign(provider, encounter=encounter)

    (received,) = smtp.messages
    assert_no_content(received, *record_secrets(world), "visit on", "2026-11-30", "11/30")


def test_sharing_a_signed_visit_summary_emails_the_patient(world, smtp, committed, provider):
    encounter = chart_services.encounter_create(
        provider, patient=world["patient"], visit_date=dt.date(2026, 11, 30), note=NOTE
    )
    chart_services.encounter_sign(provider, encounter=encounter)
    assert smtp.messages == []
    with committed():
        chart_services.encounter_share(provider, encounter=encounter, note_shared=True)
    assert len(smtp.messages) == 1


def test_record_update_emails_come_at_most_once_a_day(world, smtp, committed, provider, clock):
    with committed():
        share_lab(provider, world["patient"])
    clock.shift(dt.timedelta(hours=3))
    with committed():
        share_lab(provider, world["patient"], value="8.1")
        encounter = chart_services.encounter_create(
            provider, patient=world["patient"], visit_date=dt.date(2026, 11, 30), note=NOTE
        )
        chart_services.encounter_share(provider, encounter=encounter, note_shared=True)
        chart_services.encounter_sign(provider, encounter=encounter)
    assert len(smtp.messages) == 1

    clock.shift(dt.timedelta(hours=21, minutes=1))  # a day after the first
    with committed():
        share_lab(provider, world["patient"], value="7.0")
    assert len(smtp.messages) == 2


def test_no_record_update_email_when_the_patient_turned_them_off(world, smtp, committed, provider):
    assert services.record_update_emails_set(
        world["account"], access=world["access"], enabled=False
    )
    with committed():
        share_lab(provider, world["patient"])
    assert smtp.messages == []
    assert not OutboundEmail.objects.filter(kind="messaging.record_update").exists()


def test_a_queued_record_update_is_skipped_when_the_patient_turns_them_off_before_sending(
    world, smtp, provider
):
    from portico.messaging.record_updates import record_update_notify

    assert record_update_notify(world["patient"].pk)
    services.record_update_emails_set(world["account"], access=world["access"], enabled=False)

    outbox_drain()

    assert OutboundEmail.objects.get(kind="messaging.record_update").state == EmailState.SKIPPED
    assert smtp.messages == []


@pytest.mark.parametrize("state", ["not_invited", "invited", "revoked"])
def test_no_record_update_email_for_a_patient_not_enrolled(
    practice, admin, provider, smtp, committed, clock, state
):
    patient = factories.make_patient(practice)
    if state == "invited":
        factories.invite(admin, patient)
    elif state == "revoked":
        factories.enroll(admin, patient)
        portal_services.access_revoke(admin, patient=patient)
    before = OutboundEmail.objects.count()

    with committed():
        share_lab(provider, patient)
        encounter = chart_services.encounter_create(
            provider, patient=patient, visit_date=dt.date(2026, 11, 30), note=NOTE
        )
        chart_services.encounter_share(provider, encounter=encounter, note_shared=True)
        chart_services.encounter_sign(provider, encounter=encounter)

    assert OutboundEmail.objects.count() == before
    assert not OutboundEmail.objects.filter(kind="messaging.record_update").exists()


# --- Representatives (SPEC §9) --------------------------------------------------------------


def test_a_reply_emails_the_parent_of_a_young_child_a_link_under_her_own_access(
    practice, admin, provider, smtp, committed, clock
):
    practice_services.messaging_settings_set(admin, practice=practice, enabled=True)
    child = factories.make_patient(practice, date_of_birth=dt.date(2018, 5, 1))  # 8
    account, parent = factories.enroll_representative(admin, child, email="mum@example.test")
    thread = services.thread_start(
        account, access=parent, provider=provider, kind="medical", subject=SUBJECT, body=BODY
    )
    with committed():
        services.staff_reply(provider, thread=thread, body=REPLY)

    (received,) = to(smtp, "mum@example.test")
    _subject, text, _html = parts(received)
    assert f"{BASE}/portal/records/{parent.public_id}/messages/{thread.public_id}/" in text
    assert_no_content(received, SUBJECT, BODY, REPLY, child.legal_first_name)


def test_a_reply_emails_the_patient_but_not_the_parent_of_an_adolescent(
    world, practice, admin, provider, smtp, committed
):
    patient = world["patient"]
    patient.date_of_birth = dt.date(2012, 1, 1)  # 14
    patient.save(update_fields=["date_of_birth"])
    factories.enroll_representative(admin, patient, email="dad@example.test")
    thread = start_thread(world)
    with committed():
        services.staff_reply(provider, thread=thread, body=REPLY)

    assert len(to(smtp, world["account"].email)) == 1
    assert to(smtp, "dad@example.test") == []
