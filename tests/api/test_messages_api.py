"""Patient messages through the API (SPEC §7.4): the same services as the inbox pages, the
practice's threads only (another practice's: 404), members who answer messages only (else
403), bad input 422 with the field and nothing changed, every read audited."""

from __future__ import annotations

import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portico.audit.models import AuditEvent
from portico.charts import services as chart_services
from portico.charts.models import CLINICAL_LISTS
from portico.messaging import services
from portico.messaging.models import BODY_MAX, Message, RenewalRequest, Thread
from portico.notifications.models import OutboundEmail
from portico.portal.models import PortalAccess
from portico.practices import services as practice_services
from portico.practices.models import Role
from tests import factories
from tests.api.conftest import assert_error_body, registered_operations
from tests.api.test_bad_input import json_values

pytestmark = pytest.mark.django_db

THREAD_PATHS = [op for op in registered_operations() if "{thread_id}" in op[1]]
MESSAGE_PATHS = [op for op in registered_operations() if op[1].startswith("/messages/")]

# A valid body for each operation that takes one, so a refusal is about who asks, not what.
VALID_BODIES = {
    ("post", "/messages/threads/{thread_id}/replies"): {"body": "We will call you today."},
    ("put", "/messages/threads/{thread_id}/status"): {"status": "done"},
    ("put", "/messages/threads/{thread_id}/provider"): None,  # filled with a real provider
    ("post", "/messages/threads/{thread_id}/renewal"): {"decision": "sent", "body": ""},
}


@pytest.fixture
def world(practice, admin, provider):
    practice_services.messaging_settings_set(admin, practice=practice, enabled=True)
    patient = factories.make_patient(practice, legal_first_name="Jordan", legal_last_name="Rivera")
    account = factories.enroll(admin, patient)
    access = PortalAccess.objects.get(patient=patient)
    second = factories.make_staff(
        practice, role=Role.PROVIDER, credential="NP", full_name="Nell Newman"
    )
    return {
        "patient": patient,
        "account": account,
        "access": access,
        "provider": provider,
        "second": second,
    }


def start(world, *, provider=None, kind="medical", subject="Knee pain", body="It hurts.", **kw):
    return services.thread_start(
        world["account"],
        access=world["access"],
        provider=provider or world["provider"],
        kind=kind,
        subject=subject,
        body=body,
        **kw,
    )


def renewal_thread(world):
    medication = chart_services.item_create(
        world["provider"],
        patient=world["patient"],
        model=CLINICAL_LISTS["medications"],
        code="29046",
        instructions="10 mg daily",
        recorded_on=world["patient"].date_of_birth,
    )
    thread = start(
        world,
        kind="renewal",
        subject="Renewal",
        body="",
        medications=[str(medication.public_id)],
        pharmacy="Main Street Pharmacy",
    )
    return thread, medication


def thread_elsewhere(other_practice):
    """A thread at another practice (which the token's practice must never see)."""
    admin = factories.make_admin(other_practice)
    practice_services.messaging_settings_set(admin, practice=other_practice, enabled=True)
    provider = factories.make_staff(other_practice, role=Role.PROVIDER, credential="MD")
    patient = factories.make_patient(other_practice)
    account = factories.enroll(admin, patient)
    return services.thread_start(
        account,
        access=PortalAccess.objects.get(patient=patient),
        provider=provider,
        kind="general",
        subject="Elsewhere",
        body="Elsewhere",
    )


@pytest.fixture
def provider_api(api_as, provider, practice):
    return api_as(provider, practice)


def url(path: str, thread) -> str:
    return path.replace("{thread_id}", str(thread.public_id))


def body_for(method, path, world):
    if path.endswith("/provider"):
        return {"provider": str(world["second"].public_id)}
    return VALID_BODIES.get((method, path))


def messaging_snapshot() -> dict:
    """Everything a messages call could change, to prove that a refused call changed nothing."""
    return {
        "threads": sorted(
            Thread.objects.values_list(
                "public_id", "status", "provider_id", "filed_at", "practice_unread"
            )
        ),
        "messages": Message.objects.count(),
        "renewals": sorted(RenewalRequest.objects.values_list("pk", "decision")),
        "audit": AuditEvent.objects.count(),
        "emails": OutboundEmail.objects.count(),
    }


# --- Who may call -------------------------------------------------------------------------


def test_every_thread_route_is_found():
    assert {path for _method, path in THREAD_PATHS} == {
        "/messages/threads/{thread_id}",
        "/messages/threads/{thread_id}/replies",
        "/messages/threads/{thread_id}/status",
        "/messages/threads/{thread_id}/provider",
        "/messages/threads/{thread_id}/file",
        "/messages/threads/{thread_id}/renewal",
    }


@pytest.mark.parametrize(("method", "path"), THREAD_PATHS, ids=str)
def test_another_practices_thread_is_404_on_every_route(
    api_as, world, other_practice, method, path
):
    thread, _medication = renewal_thread(world)
    elsewhere = factories.make_staff(other_practice, role=Role.PROVIDER, credential="MD")
    elsewhere_api = api_as(elsewhere, other_practice)
    before = messaging_snapshot()

    response = elsewhere_api.call(method, url(path, thread), body_for(method, path, world))

    assert assert_error_body(response, 404)["detail"] == "Not found."
    assert messaging_snapshot() == before


@pytest.mark.parametrize(("method", "path"), THREAD_PATHS, ids=str)
def test_an_unknown_thread_is_404_like_another_practices(provider_api, world, method, path):
    response = provider_api.call(
        method, path.replace("{thread_id}", str(uuid.uuid4())), body_for(method, path, world)
    )
    assert assert_error_body(response, 404)["detail"] == "Not found."


@pytest.mark.parametrize(("method", "path"), MESSAGE_PATHS, ids=str)
def test_a_member_who_does_not_answer_messages_is_403_and_nothing_changes(
    api_as, world, staff, practice, method, path
):
    thread, _medication = renewal_thread(world)
    staff_api = api_as(staff, practice)
    before = messaging_snapshot()

    response = staff_api.call(method, url(path, thread), body_for(method, path, world))

    body = assert_error_body(response, 403)
    assert body["detail"] == str(services.NOT_ALLOWED_MESSAGE)
    assert messaging_snapshot() == before


def test_a_helper_the_administrator_chose_may_answer(api_as, world, staff, admin, practice):
    thread = start(world)
    practice_services.message_helpers_set(
        admin,
        practice=practice,
        allowed_member_ids={staff.memberships.get(practice=practice).pk},
    )
    helper_api = api_as(staff, practice)
    assert helper_api.get("/messages/threads").status_code == 200
    reply = helper_api.post(f"/messages/threads/{thread.public_id}/replies", {"body": "Hi."})
    assert reply.status_code == 201


# --- The inbox ----------------------------------------------------------------------------


def ids(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [t["id"] for t in response.json()["items"]]


def test_the_inbox_lists_the_practices_threads_newest_first_and_is_audited(
    provider_api, world, provider, other_practice
):
    first = start(world, subject="First")
    second = start(world, subject="Second", provider=world["second"])
    thread_elsewhere(other_practice)

    response = provider_api.get("/messages/threads")

    assert ids(response) == [str(second.public_id), str(first.public_id)]
    body = response.json()
    assert body["count"] == 2
    item = body["items"][1]
    assert item["patient"] == {"id": str(world["patient"].public_id), "name": "Jordan Rivera"}
    assert item["provider"] == {"id": str(provider.public_id), "name": "Dr. Paula Provider"}
    assert item["kind"] == "medical" and item["kind_label"] == "Medical question"
    assert item["subject"] == "First" and item["status"] == "open"
    assert item["unread"] is True and item["awaiting_practice"] is True
    assert item["message_count"] == 1 and item["filed_at"] is None
    event = AuditEvent.objects.filter(action="message.list").latest("pk")
    assert event.actor == provider and event.details["shown"] == 2
    assert event.details["via"] == "api"


def test_the_inbox_filters_by_provider_status_kind_and_unread(provider_api, world, provider):
    mine = start(world)
    theirs = start(world, provider=world["second"], kind="billing")
    done = start(world, kind="billing")
    services.thread_status_set(provider, thread=done, status="done")
    read = start(world, kind="appointment")
    services.thread_read_by_staff(provider, thread=read)

    def listed(**params):
        return set(ids(provider_api.get("/messages/threads", params)))

    everyone = {str(t.public_id) for t in (mine, theirs, done, read)}
    assert listed() == everyone
    assert listed(status="all") == everyone
    assert listed(provider=str(world["second"].public_id)) == {str(theirs.public_id)}
    assert listed(status="done") == {str(done.public_id)}
    assert listed(status="open") == everyone - {str(done.public_id)}
    assert listed(kind="billing") == {str(theirs.public_id), str(done.public_id)}
    assert listed(unread="true") == everyone - {str(read.public_id)}
    assert listed(provider=str(provider.public_id), kind="billing", status="open") == set()


def test_the_inbox_pages_with_limit_and_offset(provider_api, world):
    threads = [start(world, subject=f"Thread {n}") for n in range(5)]
    newest_first = [str(t.public_id) for t in reversed(threads)]

    page = provider_api.get("/messages/threads", {"limit": 2, "offset": 2})

    assert ids(page) == newest_first[2:4]
    assert page.json()["count"] == 5


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "closed"}, "status"),
        ({"kind": "gossip"}, "kind"),
        ({"provider": "nobody"}, "provider"),
        ({"provider": str(uuid.uuid4())}, "provider"),
        ({"unread": "perhaps"}, "unread"),
        ({"limit": 0}, "limit"),
        ({"limit": 201}, "limit"),
        ({"offset": -1}, "offset"),
    ],
)
def test_a_bad_inbox_filter_is_422_with_the_field(provider_api, world, params, field):
    before = AuditEvent.objects.count()
    body = assert_error_body(provider_api.get("/messages/threads", params), 422)
    assert field in body["errors"]
    assert AuditEvent.objects.count() == before


def test_a_provider_of_another_practice_is_not_a_filter(provider_api, world, other_practice):
    elsewhere = factories.make_staff(other_practice, role=Role.PROVIDER, credential="MD")
    body = assert_error_body(
        provider_api.get("/messages/threads", {"provider": str(elsewhere.public_id)}), 422
    )
    assert body["errors"] == {"provider": ["No one at the practice has this id."]}


def test_the_inbox_reads_a_fixed_number_of_queries_whatever_its_size(provider_api, world):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert provider_api.get("/messages/threads", {"limit": 50}).status_code == 200
        return len(captured)

    start(world)
    queries()  # the token's first use is recorded once
    small = queries()
    for n in range(12):
        start(world, provider=world["second"] if n % 2 else None, subject=f"More {n}")
    assert queries() == small


def test_a_thread_reads_a_fixed_number_of_queries_whatever_its_length(provider_api, world):
    thread = start(world)
    path = f"/messages/threads/{thread.public_id}"

    def queries() -> int:
        # Unread each time: opening it then writes that it was read.
        Thread.objects.filter(pk=thread.pk).update(practice_unread=True)
        with CaptureQueriesContext(connection) as captured:
            assert provider_api.get(path).status_code == 200
        return len(captured)

    queries()  # the token's first use is recorded once
    short = queries()
    for n in range(6):
        upload = SimpleUploadedFile(f"note-{n}.txt", b"Readings\n") if n % 2 else None
        services.staff_reply(world["provider"], thread=thread, body=f"Answer {n}", upload=upload)
        services.patient_reply(world["account"], access=world["access"], thread=thread, body="Ok")
    assert queries() == short


# --- One thread ---------------------------------------------------------------------------


def test_reading_a_thread_shows_its_messages_and_attachments_and_is_audited(
    provider_api, world, provider
):
    thread = start(
        world, upload=SimpleUploadedFile("readings.txt", b"Monday: 120/80\nTuesday: 118/79\n")
    )
    services.staff_reply(provider, thread=thread, body="Thanks, that looks fine.")
    before = AuditEvent.objects.filter(action="message.read").count()

    response = provider_api.get(f"/messages/threads/{thread.public_id}")

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == str(thread.public_id) and body["subject"] == "Knee pain"
    first, answer = body["messages"]
    assert first["from_patient"] is True and first["body"] == "It hurts."
    assert first["sender"] and first["renewal_decision"] is None
    attachment = first["attachment"]
    stored = Message.objects.get(public_id=first["id"]).attachment
    assert attachment == {
        "id": str(stored.public_id),
        "filename": "readings.txt",
        "content_type": stored.content_type,
        "size": stored.size,
    }
    assert answer["from_patient"] is False and answer["sender"] == "Dr. Paula Provider"
    assert answer["attachment"] is None
    assert body["renewal"] is None
    assert AuditEvent.objects.filter(action="message.read").count() == before + 1
    event = AuditEvent.objects.filter(action="message.read").latest("pk")
    assert event.actor == provider and event.patient == world["patient"]
    assert "Knee" not in str(event.details) and "hurts" not in str(event.details)


def test_reading_a_thread_marks_it_read_for_the_practice(provider_api, world):
    thread = start(world)
    assert provider_api.get(f"/messages/threads/{thread.public_id}").json()["unread"] is False
    thread.refresh_from_db()
    assert thread.practice_unread is False


def test_a_renewal_thread_shows_the_request_and_the_answer(provider_api, world, provider):
    thread, medication = renewal_thread(world)
    renewal = provider_api.get(f"/messages/threads/{thread.public_id}").json()["renewal"]
    assert renewal == {
        "medications": [{"id": str(medication.public_id), "name": medication.display}],
        "pharmacy": "Main Street Pharmacy",
        "decision": None,
        "decided_by": None,
        "decided_at": None,
    }

    services.renewal_decide(provider, thread=thread, decision="needs_visit")
    body = provider_api.get(f"/messages/threads/{thread.public_id}").json()
    assert body["renewal"]["decision"] == "needs_visit"
    assert body["renewal"]["decided_by"] == {
        "id": str(provider.public_id),
        "name": "Dr. Paula Provider",
    }
    assert body["messages"][-1]["renewal_decision"] == "needs_visit"


# --- Changes ------------------------------------------------------------------------------


def test_a_reply_is_stored_audited_and_the_patient_emailed(provider_api, world, provider):
    thread = start(world)

    response = provider_api.post(
        f"/messages/threads/{thread.public_id}/replies", {"body": "  Come in Monday.  "}
    )

    assert response.status_code == 201
    body = response.json()
    assert body["body"] == "Come in Monday." and body["from_patient"] is False
    message = Message.objects.get(public_id=body["id"])
    assert message.thread == thread and message.sender == provider
    assert AuditEvent.objects.filter(action="message.reply", actor=provider).exists()
    assert OutboundEmail.objects.filter(
        kind=services.PATIENT_EMAIL, to_address=world["account"].email
    ).exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"body": ""}, "body"),
        ({"body": "   "}, "body"),
        ({"body": "x" * (BODY_MAX + 1)}, "body"),
        ({"body": "a\x00b"}, "body"),
        ({"body": 12}, "body"),
        ({}, "body"),
        ({"body": "Hi", "subject": "x"}, "subject"),
    ],
)
def test_a_bad_reply_is_422_with_the_field_and_changes_nothing(provider_api, world, payload, field):
    thread = start(world)
    before = messaging_snapshot()
    body = assert_error_body(
        provider_api.post(f"/messages/threads/{thread.public_id}/replies", payload), 422
    )
    assert field in body["errors"]
    assert messaging_snapshot() == before


def test_a_done_thread_takes_no_reply_until_reopened(provider_api, world):
    thread = start(world)
    path = f"/messages/threads/{thread.public_id}"

    assert provider_api.call("put", f"{path}/status", {"status": "done"}).json()["status"] == "done"
    body = assert_error_body(provider_api.post(f"{path}/replies", {"body": "Hi"}), 422)
    assert body["errors"] == {"body": [str(services.STAFF_THREAD_DONE_MESSAGE)]}

    reopened = provider_api.call("put", f"{path}/status", {"status": "open"})
    assert reopened.status_code == 200 and reopened.json()["status"] == "open"
    assert provider_api.post(f"{path}/replies", {"body": "Hi"}).status_code == 201
    assert AuditEvent.objects.filter(action="message.status").count() == 2


@pytest.mark.parametrize("payload", [{"status": "closed"}, {"status": None}, {}, {"state": "done"}])
def test_a_bad_status_is_422_and_changes_nothing(provider_api, world, payload):
    thread = start(world)
    before = messaging_snapshot()
    response = provider_api.call("put", f"/messages/threads/{thread.public_id}/status", payload)
    assert_error_body(response, 422)
    assert messaging_snapshot() == before


def test_assigning_gives_the_thread_to_another_provider(provider_api, world):
    thread = start(world)
    second = world["second"]

    response = provider_api.call(
        "put", f"/messages/threads/{thread.public_id}/provider", {"provider": str(second.public_id)}
    )

    assert response.status_code == 200
    assert response.json()["provider"] == {"id": str(second.public_id), "name": "Nell Newman"}
    thread.refresh_from_db()
    assert thread.provider == second
    assert AuditEvent.objects.filter(action="message.assign").exists()
    assert OutboundEmail.objects.filter(
        kind=services.PRACTICE_EMAIL, to_address=second.email
    ).exists()


def test_a_thread_goes_only_to_a_provider_of_the_practice_who_receives_messages(
    provider_api, world, staff, other_practice
):
    thread = start(world)
    elsewhere = factories.make_staff(other_practice, role=Role.PROVIDER, credential="MD")
    before = messaging_snapshot()
    for provider in (staff.public_id, elsewhere.public_id, uuid.uuid4()):
        response = provider_api.call(
            "put", f"/messages/threads/{thread.public_id}/provider", {"provider": str(provider)}
        )
        assert list(assert_error_body(response, 422)["errors"]) == ["provider"]
    response = provider_api.call(
        "put", f"/messages/threads/{thread.public_id}/provider", {"provider": "Dr. Who"}
    )
    assert list(assert_error_body(response, 422)["errors"]) == ["provider"]
    assert messaging_snapshot() == before


def test_filing_to_the_chart(provider_api, world, provider):
    thread = start(world)
    path = f"/messages/threads/{thread.public_id}/file"

    first = provider_api.post(path)
    again = provider_api.post(path)

    assert first.status_code == again.status_code == 200
    assert first.json()["filed_at"] is not None
    assert again.json()["filed_at"] == first.json()["filed_at"]
    thread.refresh_from_db()
    assert thread.filed_by == provider
    assert AuditEvent.objects.filter(action="message.file").count() == 1


def test_answering_a_renewal_request(provider_api, world, provider):
    thread, _medication = renewal_thread(world)
    path = f"/messages/threads/{thread.public_id}/renewal"

    response = provider_api.post(path, {"decision": "sent", "body": "Sent to Main Street."})

    assert response.status_code == 201
    assert response.json()["renewal_decision"] == "sent"
    assert response.json()["body"] == "Sent to Main Street."
    request = RenewalRequest.objects.get(thread=thread)
    assert request.decision == "sent" and request.decided_by == provider
    again = assert_error_body(provider_api.post(path, {"decision": "denied"}), 422)
    assert list(again["errors"]) == ["decision"]


@pytest.mark.parametrize(
    "payload",
    [{"decision": "maybe"}, {}, {"decision": "sent", "body": "x" * (BODY_MAX + 1)}],
)
def test_a_bad_renewal_answer_is_422_and_changes_nothing(provider_api, world, payload):
    thread, _medication = renewal_thread(world)
    before = messaging_snapshot()
    response = provider_api.post(f"/messages/threads/{thread.public_id}/renewal", payload)
    assert_error_body(response, 422)
    assert messaging_snapshot() == before


def test_a_thread_that_is_not_a_renewal_request_takes_no_renewal_answer(provider_api, world):
    thread = start(world)
    body = assert_error_body(
        provider_api.post(f"/messages/threads/{thread.public_id}/renewal", {"decision": "sent"}),
        422,
    )
    assert body["errors"] == {"decision": ["This is not a renewal request."]}


# --- The description ----------------------------------------------------------------------


def test_openapi_describes_the_messages_operations(client, db):
    schema = client.get("/api/v1/openapi.json").json()
    paths = schema["paths"]
    operations = {
        op["operationId"].rsplit("_api_messages_", 1)[-1]: (method, path)
        for path, item in paths.items()
        for method, op in item.items()
        if "/messages/" in path
    }
    assert operations == {
        "list_threads": ("get", "/api/v1/messages/threads"),
        "get_thread": ("get", "/api/v1/messages/threads/{thread_id}"),
        "reply_to_thread": ("post", "/api/v1/messages/threads/{thread_id}/replies"),
        "set_thread_status": ("put", "/api/v1/messages/threads/{thread_id}/status"),
        "assign_thread": ("put", "/api/v1/messages/threads/{thread_id}/provider"),
        "file_thread": ("post", "/api/v1/messages/threads/{thread_id}/file"),
        "answer_renewal": ("post", "/api/v1/messages/threads/{thread_id}/renewal"),
    }
    for path, item in paths.items():
        if "{thread_id}" in path:
            for operation in item.values():
                assert {"403", "404", "422"} <= set(operation["responses"]), path
    reply = schema["components"]["schemas"]["ReplyIn"]
    assert reply["required"] == ["body"] and reply["additionalProperties"] is False


# --- Any JSON at all ----------------------------------------------------------------------

# Each write route with the fields it knows (and one it does not).
WRITES = {
    ("post", "replies"): ["body", "extra"],
    ("put", "status"): ["status", "extra"],
    ("put", "provider"): ["provider", "extra"],
    ("post", "renewal"): ["decision", "body", "extra"],
}


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    data=st.sampled_from(sorted(WRITES)).flatmap(
        lambda route: st.tuples(
            st.just(route),
            st.dictionaries(st.sampled_from(WRITES[route]), json_values, max_size=3) | json_values,
        )
    )
)
def test_any_json_gives_a_clear_answer_never_a_500(provider_api, world, data):
    (method, action), payload = data
    thread = Thread.objects.filter(kind="renewal").first() or renewal_thread(world)[0]
    before = messaging_snapshot()

    response = provider_api.call(method, f"/messages/threads/{thread.public_id}/{action}", payload)

    if response.status_code >= 300:
        assert_error_body(response, 422)
        assert messaging_snapshot() == before, payload
    else:
        assert response.status_code in (200, 201)
