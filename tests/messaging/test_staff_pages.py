"""The practice's side of messaging (SPEC §7.4): the inbox, a thread and its actions, attachment
downloads, the header's unread count and the chart's timeline."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape

from portico.audit.models import AuditEvent
from portico.charts import services as chart_services
from portico.charts.models import CLINICAL_LISTS
from portico.messaging import selectors, services
from portico.messaging.models import Message, Thread, ThreadStatus
from portico.practices import services as practice_services
from portico.practices.models import Membership, Role
from tests import factories
from tests.factories import sign_in

pytestmark = pytest.mark.django_db

INBOX = "/ehr/messages/"
PATIENTS = reverse("charts:patient_list")


class World:
    """A practice with messaging on (conftest's messaging_on), an enrolled patient (enrolled),
    the people who answer, and builders of threads."""

    def __init__(self, practice, admin, provider, patient, account, access):
        self.practice, self.admin, self.provider, self.patient = practice, admin, provider, patient
        self.account, self.access = account, access

    def thread(self, *, provider=None, kind="general", subject="A question", upload=None, **kw):
        return services.thread_start(
            self.account,
            access=self.access,
            provider=provider or self.provider,
            kind=kind,
            subject=subject,
            body=kw.pop("body", "Hello, doctor."),
            upload=upload,
            **kw,
        )

    def renewal(self):
        medication = chart_services.item_create(
            self.provider,
            patient=self.patient,
            model=CLINICAL_LISTS["medications"],
            code="29046",
            instructions="10 mg daily",
            recorded_on=dt.date(2026, 1, 5),
        )
        return self.thread(
            kind="renewal",
            subject="Renewal please",
            body="",
            medications=[medication.public_id],
            pharmacy="Main Street Pharmacy",
        )


@pytest.fixture
def world(messaging_on, admin, provider, patient, enrolled):
    return World(messaging_on, admin, provider, patient, *enrolled)


@pytest.fixture
def helper(practice, admin, staff):
    """A staff member the administrator lets answer patient messages."""
    membership = Membership.objects.get(user=staff, practice=practice)
    practice_services.message_helpers_set(
        admin, practice=practice, allowed_member_ids={membership.pk}
    )
    return staff


@pytest.fixture
def second_provider(practice):
    return factories.make_staff(
        practice, role=Role.PROVIDER, credential="NP", full_name="Nico Nurse-Practitioner"
    )


def thread_url(thread, action=""):
    return f"/ehr/messages/{thread.public_id}/" + (f"{action}/" if action else "")


def page(client, url, **query):
    response = client.get(url, query)
    return response, response.content.decode()


# --- Who may ------------------------------------------------------------------------------


def _every_staff_url(thread, attachment):
    return [
        ("get", INBOX),
        ("get", thread_url(thread)),
        ("post", thread_url(thread, "reply")),
        ("post", thread_url(thread, "status")),
        ("post", thread_url(thread, "assign")),
        ("post", thread_url(thread, "file")),
        ("post", thread_url(thread, "renewal")),
        ("get", thread_url(thread, f"files/{attachment.public_id}")),
    ]


def test_staff_not_allowed_by_the_administrator_get_403(client, world, staff):
    thread = world.thread(upload=SimpleUploadedFile("note.txt", b"Readings\n"))
    attachment = thread.messages.get().attachment
    sign_in(client, staff)
    for method, url in _every_staff_url(thread, attachment):
        response = getattr(client, method)(url, {"status": "done", "body": "Hi"})
        assert response.status_code == 403, url
    thread.refresh_from_db()
    assert thread.status == ThreadStatus.OPEN and thread.message_count == 1
    assert thread.filed_at is None


def test_an_administrator_who_is_not_allowed_gets_403_too(client, world):
    sign_in(client, world.admin)
    assert client.get(INBOX).status_code == 403


def test_staff_the_administrator_allows_may_open_the_inbox(client, world, helper):
    sign_in(client, helper)
    assert client.get(INBOX).status_code == 200


def test_another_practices_thread_is_a_404_on_every_staff_url(client, world, other_practice):
    thread = world.thread(upload=SimpleUploadedFile("note.txt", b"Readings\n"))
    attachment = thread.messages.get().attachment
    # A provider of the other practice, who may answer messages there.
    other_provider = factories.make_staff(other_practice, role=Role.PROVIDER, credential="MD")
    sign_in(client, other_provider)
    for method, url in _every_staff_url(thread, attachment)[1:]:
        response = getattr(client, method)(url, {"status": "done", "body": "Hi"})
        assert response.status_code == 404, url
    assert client.get(f"/ehr/patients/{world.patient.public_id}/timeline/").status_code == 404
    thread.refresh_from_db()
    assert thread.status == ThreadStatus.OPEN and thread.message_count == 1
    assert thread.filed_at is None and thread.practice_unread


def test_another_practices_thread_is_a_404_for_an_outsider_who_may_not_answer(
    client, world, outsider
):
    thread = world.thread(upload=SimpleUploadedFile("note.txt", b"Readings\n"))
    attachment = thread.messages.get().attachment
    sign_in(client, outsider)
    for method, url in _every_staff_url(thread, attachment)[1:]:
        assert getattr(client, method)(url).status_code == 404, url


def test_an_attachment_of_another_thread_is_a_404(client, world):
    first = world.thread(upload=SimpleUploadedFile("note.txt", b"Readings\n"))
    second = world.thread(subject="Another")
    attachment = first.messages.get().attachment
    sign_in(client, world.provider)
    assert client.get(thread_url(second, f"files/{attachment.public_id}")).status_code == 404


def test_actions_refuse_a_get(client, world):
    thread = world.thread()
    sign_in(client, world.provider)
    for action in ("reply", "status", "assign", "file", "renewal"):
        assert client.get(thread_url(thread, action)).status_code == 405


# --- The inbox ----------------------------------------------------------------------------


def test_a_providers_inbox_shows_only_their_threads_by_default(client, world, second_provider):
    world.thread(subject="For Paula")
    world.thread(subject="For Nico", provider=second_provider)
    sign_in(client, world.provider)
    _response, html = page(client, INBOX)
    assert "For Paula" in html and "For Nico" not in html
    _response, html = page(client, INBOX, provider="all", status="open")
    assert "For Paula" in html and "For Nico" in html
    _response, html = page(client, INBOX, provider=str(second_provider.public_id))
    assert "For Paula" not in html and "For Nico" in html


def test_a_helpers_inbox_shows_every_providers_threads_by_default(
    client, world, helper, second_provider
):
    world.thread(subject="For Paula")
    world.thread(subject="For Nico", provider=second_provider)
    sign_in(client, helper)
    _response, html = page(client, INBOX)
    assert "For Paula" in html and "For Nico" in html


def test_the_inbox_shows_open_threads_by_default_and_filters_by_status(client, world):
    done = world.thread(subject="Finished business")
    world.thread(subject="Still open")
    services.thread_status_set(world.provider, thread=done, status="done")
    sign_in(client, world.provider)
    _response, html = page(client, INBOX)
    assert "Still open" in html and "Finished business" not in html
    _response, html = page(client, INBOX, status="done")
    assert "Still open" not in html and "Finished business" in html
    _response, html = page(client, INBOX, status="all")
    assert "Still open" in html and "Finished business" in html


def test_the_inbox_filters_by_message_type_and_unread(client, world):
    world.thread(subject="About billing", kind="billing")
    read = world.thread(subject="Already read", kind="general")
    services.thread_read_by_staff(world.provider, thread=read)
    sign_in(client, world.provider)
    _response, html = page(client, INBOX, kind="billing")
    assert "About billing" in html and "Already read" not in html
    _response, html = page(client, INBOX, unread="on")
    assert "About billing" in html and "Already read" not in html


def test_unread_threads_are_bold_and_say_so_to_screen_readers(client, world):
    world.thread(subject="New one")
    sign_in(client, world.provider)
    _response, html = page(client, INBOX)
    assert '<span class="visually-hidden">Unread: </span>' in html
    assert 'class="inbox-unread"' in html


def test_the_inbox_links_each_thread_and_the_patients_chart(client, world):
    thread = world.thread()
    sign_in(client, world.provider)
    _response, html = page(client, INBOX)
    assert thread_url(thread) in html
    assert reverse("charts:chart", args=[world.patient.public_id]) in html
    assert world.patient.display_name in html


def test_a_bad_filter_falls_back_to_the_default_and_is_no_error_page(client, world):
    world.thread(subject="Mine")
    sign_in(client, world.provider)
    response, html = page(client, INBOX, provider="nobody", status="weird", kind="nope")
    assert response.status_code == 200
    assert "Mine" in html


def test_the_inbox_is_audited_without_health_information(client, world):
    world.thread(subject="Private subject")
    sign_in(client, world.provider)
    client.get(INBOX)
    event = AuditEvent.objects.filter(action="message.list").latest("id")
    assert event.actor == world.provider
    assert event.details["shown"] == 1 and event.details["status"] == "open"
    assert "Private subject" not in str(event.details)


def test_the_inbox_is_paged(client, world):
    for n in range(selectors.PAGE_SIZE + 2):
        world.thread(subject=f"Question {n:02d}")
    sign_in(client, world.provider)
    _response, html = page(client, INBOX, status="open", kind="general")
    assert "Page 1 of 2" in html and "Question 00" not in html
    # The next page keeps the filters.
    assert 'href="?status=open&amp;kind=general&amp;page=2"' in html
    _response, html = page(client, INBOX, page=2, status="open")
    assert "Question 00" in html and "Question 10" not in html


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


def test_the_inbox_reads_a_fixed_number_of_queries_whatever_the_threads(
    client, world, second_provider, django_assert_num_queries
):
    sign_in(client, world.provider)
    for n in range(3):
        world.thread(subject=f"First {n}")
    few = _queries(client, INBOX + "?provider=all")
    for n in range(40):
        world.thread(subject=f"More {n}", provider=second_provider if n % 2 else None)
    with django_assert_num_queries(few):
        client.get(INBOX + "?provider=all")
    with django_assert_num_queries(few):
        client.get(INBOX + "?provider=all&page=2")


# --- The header ---------------------------------------------------------------------------


def test_unread_count_in_the_header(client, world, second_provider):
    world.thread(subject="One")
    world.thread(subject="Two")
    world.thread(subject="For Nico", provider=second_provider)
    sign_in(client, world.provider)
    html = client.get(PATIENTS).content.decode()
    assert 'href="/ehr/messages/"' in html
    assert '<span class="nav-count" aria-hidden="true">(2)</span>' in html
    assert "2 unread" in html


def test_a_helper_sees_the_practices_unread_count(client, world, helper, second_provider):
    world.thread(subject="One")
    world.thread(subject="For Nico", provider=second_provider)
    sign_in(client, helper)
    html = client.get(PATIENTS).content.decode()
    assert "2 unread" in html


def test_the_headers_unread_count_costs_one_query(client, world, staff, practice):
    world.thread()
    sign_in(client, staff)
    without = _queries(client, PATIENTS)
    membership = Membership.objects.get(user=staff)
    practice_services.message_helpers_set(
        world.admin, practice=practice, allowed_member_ids={membership.pk}
    )
    assert _queries(client, PATIENTS) == without + 1


def test_no_messages_link_for_members_who_may_not_answer(client, world, staff):
    world.thread()
    sign_in(client, staff)
    html = client.get(PATIENTS).content.decode()
    assert 'href="/ehr/messages/"' not in html


def test_opening_a_thread_lowers_the_unread_count(client, world):
    thread = world.thread()
    sign_in(client, world.provider)
    client.get(thread_url(thread))
    html = client.get(PATIENTS).content.decode()
    assert "unread" not in html.split("</nav>")[0]


# --- One thread ---------------------------------------------------------------------------


def test_the_thread_shows_messages_patient_provider_and_state(client, world):
    thread = world.thread(subject="Knee pain", body="It hurts when I climb stairs.")
    sign_in(client, world.provider)
    response, html = page(client, thread_url(thread))
    assert response.status_code == 200
    assert "Knee pain" in html and "It hurts when I climb stairs." in html
    assert reverse("charts:chart", args=[world.patient.public_id]) in html
    assert world.provider.display_name in html
    assert "Not filed to the chart" in html
    for label in ("Reply", "Mark done", "Assign", "File to chart"):
        assert label in html


def test_opening_a_thread_writes_an_audit_row_each_time(client, world):
    thread = world.thread()
    sign_in(client, world.provider)
    before = AuditEvent.objects.filter(action="message.read").count()
    client.get(thread_url(thread))
    client.get(thread_url(thread))
    events = AuditEvent.objects.filter(action="message.read").order_by("id")
    assert events.count() == before + 2
    assert events.last().details["thread"] == str(thread.public_id)
    assert events.last().patient_id == world.patient.pk
    thread.refresh_from_db()
    assert not thread.practice_unread


def test_the_thread_page_reads_a_fixed_number_of_queries(client, world):
    thread = world.thread(upload=SimpleUploadedFile("a.txt", b"one\n"))
    sign_in(client, world.provider)
    few = _queries(client, thread_url(thread))
    for n in range(6):
        services.patient_reply(
            world.account,
            access=world.access,
            thread=thread,
            body=f"More {n}",
            upload=SimpleUploadedFile("b.txt", b"two\n"),
        )
    assert _queries(client, thread_url(thread)) == few


def test_a_reply_is_sent_and_the_patient_sees_it(client, world):
    thread = world.thread()
    sign_in(client, world.provider)
    response = client.post(thread_url(thread, "reply"), {"body": "Please come in on Monday."})
    assert response.status_code == 302 and response.url == thread_url(thread)
    message = thread.messages.latest("id")
    assert message.body == "Please come in on Monday." and not message.from_patient
    thread.refresh_from_db()
    assert thread.patient_unread and not thread.awaiting_practice
    html = client.get(response.url).content.decode()
    assert "Your reply was sent." in html and "Please come in on Monday." in html


def test_a_reply_with_a_file_can_be_downloaded_by_the_practice(client, world):
    thread = world.thread()
    sign_in(client, world.provider)
    client.post(
        thread_url(thread, "reply"),
        {"body": "Your results.", "attachment": SimpleUploadedFile("res.txt", b"All normal\n")},
    )
    attachment = thread.messages.latest("id").attachment
    html = client.get(thread_url(thread)).content.decode()
    assert thread_url(thread, f"files/{attachment.public_id}") in html


def test_an_empty_reply_is_refused_next_to_the_field(client, world):
    thread = world.thread()
    sign_in(client, world.provider)
    response = client.post(thread_url(thread, "reply"), {"body": "   "})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert thread.messages.count() == 1


def test_a_too_long_reply_is_refused_with_the_limit(client, world):
    thread = world.thread()
    sign_in(client, world.provider)
    response = client.post(thread_url(thread, "reply"), {"body": "x" * 20_001})
    assert response.status_code == 400
    assert "Keep this under 20,000 characters" in response.content.decode()
    assert thread.messages.count() == 1


def test_a_reply_with_a_disallowed_file_is_refused_and_stores_nothing(client, world):
    thread = world.thread()
    sign_in(client, world.provider)
    response = client.post(
        thread_url(thread, "reply"),
        {"body": "See file", "attachment": SimpleUploadedFile("tool.pdf", b"MZ\x90\x00" * 64)},
    )
    assert response.status_code == 400
    assert thread.messages.count() == 1


def test_reply_to_a_done_thread_is_refused(client, world):
    thread = world.thread()
    services.thread_status_set(world.provider, thread=thread, status="done")
    sign_in(client, world.provider)
    html = client.get(thread_url(thread)).content.decode()
    assert "This thread is done. Reopen it to reply." in html and "Reopen" in html
    response = client.post(thread_url(thread, "reply"), {"body": "Late answer"})
    assert response.status_code == 400
    assert escape(str(services.STAFF_THREAD_DONE_MESSAGE)) in response.content.decode()
    assert thread.messages.count() == 1


def test_mark_done_and_reopen(client, world):
    thread = world.thread()
    sign_in(client, world.provider)
    response = client.post(thread_url(thread, "status"), {"status": "done"})
    assert response.status_code == 302
    thread.refresh_from_db()
    assert thread.status == ThreadStatus.DONE
    assert "The thread is marked done." in client.get(response.url).content.decode()
    client.post(thread_url(thread, "status"), {"status": "open"})
    thread.refresh_from_db()
    assert thread.status == ThreadStatus.OPEN
    assert AuditEvent.objects.filter(action="message.status").count() == 2


def test_a_bad_status_is_refused(client, world):
    thread = world.thread()
    sign_in(client, world.provider)
    response = client.post(thread_url(thread, "status"), {"status": "deleted"})
    assert response.status_code == 400
    assert "Choose open or done." in response.content.decode()
    thread.refresh_from_db()
    assert thread.status == ThreadStatus.OPEN


def test_assign_to_another_provider(client, world, second_provider):
    thread = world.thread()
    sign_in(client, world.provider)
    response = client.post(
        thread_url(thread, "assign"), {"provider": str(second_provider.public_id)}
    )
    assert response.status_code == 302
    thread.refresh_from_db()
    assert thread.provider == second_provider
    assert second_provider.display_name in client.get(response.url).content.decode()


def test_assign_to_a_provider_of_another_practice_is_refused(client, world, other_practice):
    thread = world.thread()
    stranger = factories.make_staff(other_practice, role=Role.PROVIDER, credential="MD")
    sign_in(client, world.provider)
    response = client.post(thread_url(thread, "assign"), {"provider": str(stranger.public_id)})
    assert response.status_code == 400
    assert "Choose one of the practice&#x27;s providers in the list." in response.content.decode()
    thread.refresh_from_db()
    assert thread.provider == world.provider


def test_assign_to_staff_without_a_messaging_credential_is_refused(client, world, staff):
    thread = world.thread()
    sign_in(client, world.provider)
    response = client.post(thread_url(thread, "assign"), {"provider": str(staff.public_id)})
    assert response.status_code == 400
    thread.refresh_from_db()
    assert thread.provider == world.provider


def test_file_to_chart_puts_the_thread_in_the_chart_timeline(client, world):
    thread = world.thread(subject="Blood pressure log")
    sign_in(client, world.provider)
    timeline = reverse("charts:timeline", args=[world.patient.public_id])
    assert "Blood pressure log" not in client.get(timeline).content.decode()
    response = client.post(thread_url(thread, "file"))
    assert response.status_code == 302
    thread.refresh_from_db()
    assert thread.filed_by == world.provider and thread.filed_at is not None
    html = client.get(response.url).content.decode()
    assert "Filed to chart on" in html
    html = client.get(timeline).content.decode()
    assert "Blood pressure log" in html and thread_url(thread) in html
    assert f"Filed to chart by {world.provider.display_name}" in html
    # Filing twice changes nothing.
    client.post(thread_url(thread, "file"))
    assert AuditEvent.objects.filter(action="message.file").count() == 1


def test_an_automatically_filed_thread_says_so(client, world):
    practice_services.messaging_settings_set(world.admin, practice=world.practice, auto_file=True)
    thread = world.thread(subject="Auto filed")
    sign_in(client, world.provider)
    assert "(automatically)" in client.get(thread_url(thread)).content.decode()
    html = client.get(reverse("charts:timeline", args=[world.patient.public_id])).content
    assert "Filed to chart automatically" in html.decode()


def test_renewal_answer_shows_in_the_thread_and_in_the_timeline(client, world):
    thread = world.renewal()
    sign_in(client, world.provider)
    html = client.get(thread_url(thread)).content.decode()
    assert "lisinopril" in html and "Main Street Pharmacy" in html
    for label in ("Renewal sent", "Needs a visit", "Denied"):
        assert label in html
    response = client.post(
        thread_url(thread, "renewal"), {"decision": "needs_visit", "body": "Let us check first."}
    )
    assert response.status_code == 302
    html = client.get(response.url).content.decode()
    assert "Answer to the renewal request:</strong> Needs a visit" in html
    assert "Let us check first." in html
    assert f"Needs a visit, by {world.provider.display_name}" in html
    # Not filed, yet the timeline tells of the answer.
    thread.refresh_from_db()
    assert thread.filed_at is None
    html = client.get(reverse("charts:timeline", args=[world.patient.public_id])).content
    html = html.decode()
    assert "Prescription renewal: Needs a visit" in html and "lisinopril" in html


def test_a_renewal_request_is_answered_once(client, world):
    thread = world.renewal()
    sign_in(client, world.provider)
    client.post(thread_url(thread, "renewal"), {"decision": "sent"})
    response = client.post(thread_url(thread, "renewal"), {"decision": "denied"})
    assert response.status_code == 400
    assert "This request was already answered." in response.content.decode()
    assert Message.objects.filter(thread=thread, renewal_decision="denied").count() == 0


def test_a_renewal_answer_must_be_one_of_the_three(client, world):
    thread = world.renewal()
    sign_in(client, world.provider)
    response = client.post(thread_url(thread, "renewal"), {"decision": "maybe"})
    assert response.status_code == 400
    assert thread.renewal.decision == ""


def test_a_renewal_answer_on_an_ordinary_thread_is_refused(client, world):
    thread = world.thread()
    sign_in(client, world.provider)
    response = client.post(thread_url(thread, "renewal"), {"decision": "sent"})
    assert response.status_code == 400
    assert "This is not a renewal request." in response.content.decode()


# --- Attachments --------------------------------------------------------------------------


def test_an_attachment_is_downloaded_as_a_file_with_safe_headers_and_audited(client, world):
    thread = world.thread(upload=SimpleUploadedFile("readings.txt", b"Readings: 120/80\n"))
    attachment = thread.messages.get().attachment
    sign_in(client, world.provider)
    response = client.get(thread_url(thread, f"files/{attachment.public_id}"))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"Readings: 120/80\n"
    assert response["Content-Disposition"].startswith("attachment;")
    assert attachment.filename in response["Content-Disposition"]
    assert response["Content-Type"].startswith(attachment.content_type)
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "private, no-store"
    event = AuditEvent.objects.filter(action="message.attachment_download").latest("id")
    assert event.details["attachment"] == str(attachment.public_id)
    assert event.details["by"] == "practice"


def test_an_unknown_attachment_is_a_404(client, world):
    thread = world.thread()
    sign_in(client, world.provider)
    url = thread_url(thread, "files/7b0b4b1e-0000-4000-8000-000000000000")
    assert client.get(url).status_code == 404


# --- The chart's timeline -----------------------------------------------------------------


def _signed_visit(world, when: dt.date):
    encounter = chart_services.encounter_create(
        world.provider, patient=world.patient, visit_date=when, note="Seen."
    )
    return chart_services.encounter_sign(world.provider, encounter=encounter)


def test_the_timeline_tells_the_charts_story_newest_first(client, world):
    _signed_visit(world, dt.date(2025, 3, 1))
    unsigned = chart_services.encounter_create(
        world.provider, patient=world.patient, visit_date=dt.date(2025, 4, 1)
    )
    thread = world.thread(subject="Filed question")
    services.thread_file(world.provider, thread=thread)
    world.thread(subject="Not filed question")
    sign_in(client, world.provider)
    html = client.get(reverse("charts:timeline", args=[world.patient.public_id])).content
    html = html.decode()
    assert "Filed question" in html and "Not filed question" not in html
    assert reverse("charts:encounter", args=[world.patient.public_id, unsigned.public_id]) not in (
        html
    )
    assert html.index("Filed question") < html.index("March 1, 2025")
    assert 'aria-current="page">Timeline' in html


def test_the_timeline_is_audited_as_a_chart_read(client, world):
    sign_in(client, world.provider)
    client.get(reverse("charts:timeline", args=[world.patient.public_id]))
    event = AuditEvent.objects.filter(action="chart.view").latest("id")
    assert event.patient_id == world.patient.pk and event.details["page"] == "timeline"


def test_any_member_may_read_the_timeline_but_only_answerers_get_thread_links(client, world, staff):
    thread = world.thread(subject="Filed one")
    services.thread_file(world.provider, thread=thread)
    sign_in(client, staff)
    response = client.get(reverse("charts:timeline", args=[world.patient.public_id]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Filed one" in html and thread_url(thread) not in html


def test_the_chart_tabs_link_the_timeline(client, world):
    sign_in(client, world.provider)
    html = client.get(reverse("charts:chart_summary", args=[world.patient.public_id])).content
    assert reverse("charts:timeline", args=[world.patient.public_id]).encode() in html


def test_the_timeline_reads_a_fixed_number_of_queries(client, world, django_assert_num_queries):
    url = reverse("charts:timeline", args=[world.patient.public_id])
    sign_in(client, world.provider)

    def grow(n):
        for i in range(n):
            services.thread_file(world.provider, thread=world.thread(subject=f"T{i}"))
            renewal = world.renewal()
            services.renewal_decide(world.provider, thread=renewal, decision="sent")
            _signed_visit(world, dt.date(2025, 1, 1) + dt.timedelta(days=i))

    grow(1)
    few = _queries(client, url)
    grow(8)
    with django_assert_num_queries(few):
        client.get(url)
    assert Thread.objects.filter(patient=world.patient).count() == 18


def test_a_reply_with_two_files_is_refused(client, world):
    thread = world.thread()
    sign_in(client, world.provider)
    response = client.post(
        thread_url(thread, "reply"),
        {
            "body": "Two files",
            "attachment": [
                SimpleUploadedFile("a.txt", b"one\n"),
                SimpleUploadedFile("b.txt", b"two\n"),
            ],
        },
    )
    assert response.status_code == 400
    assert "Attach one file per message." in response.content.decode()
    assert thread.messages.count() == 1
