"""SPEC §3 through the API: invite, resend, cancel, revoke, with the same audit events and the
same enrollment email as the pages (they call the same services)."""

import pytest
from django.core import mail

from portico.audit.models import AuditEvent
from portico.notifications.models import OutboundEmail
from portico.portal.models import Invitation, InvitationStatus
from portico.portal.services import ENROLLMENT_EMAIL
from portico.portal.tokens import ACCESS_CODE_ALPHABET
from tests.api.conftest import assert_error_body, snapshot
from tests.factories import enroll, invite


def portal_events(patient) -> list[str]:
    return list(
        AuditEvent.objects.filter(patient=patient, action__startswith="portal.")
        .order_by("id")
        .values_list("action", flat=True)
    )


def test_invite_makes_an_access_code_and_sends_the_enrollment_email(
    admin_api, admin, patient, send_email
):
    with send_email:
        response = admin_api.post(f"/patients/{patient.public_id}/portal/invite")

    assert response.status_code == 200, response.content
    body = response.json()
    invitation = Invitation.objects.get(patient=patient)
    assert body["status"] == "invited"
    assert body["status_label"] == "Invite pending"
    assert len(body["access_code"]) == 8
    assert set(body["access_code"]) <= set(ACCESS_CODE_ALPHABET)
    assert body["access_code"] == invitation.access_code
    assert body["email"] == patient.email
    assert body["actions"] == ["resend", "cancel"]
    assert [e["action"] for e in body["timeline"]] == ["portal.invite"]
    assert body["timeline"][0]["by"] == admin.display_name

    event = AuditEvent.objects.get(patient=patient, action="portal.invite")
    assert event.actor == admin
    assert event.details["invitation"] == str(invitation.public_id)
    assert OutboundEmail.objects.filter(kind=ENROLLMENT_EMAIL, patient=patient).count() == 1
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [patient.email]
    assert body["access_code"] not in mail.outbox[0].body


def test_invite_with_edited_address_corrects_the_chart(admin_api, patient, send_email):
    with send_email:
        response = admin_api.post(
            f"/patients/{patient.public_id}/portal/invite",
            {"email": "Robin.New@Example.test", "phone": "(202) 555-0188"},
        )

    assert response.status_code == 200, response.content
    assert response.json()["email"] == "robin.new@example.test"
    assert response.json()["phone"] == "+12025550188"
    patient.refresh_from_db()
    assert patient.email == "robin.new@example.test"
    assert patient.mobile_phone == "+12025550188"
    assert mail.outbox[0].to == ["robin.new@example.test"]


def test_resend_gives_a_new_code_and_kills_the_old_one(admin_api, admin, patient, send_email):
    first = invite(admin, patient)

    with send_email:
        response = admin_api.post(f"/patients/{patient.public_id}/portal/resend", {})

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "invited"
    assert body["access_code"] != first.access_code
    first.refresh_from_db()
    assert first.status == InvitationStatus.SUPERSEDED
    pending = Invitation.objects.get(patient=patient, status=InvitationStatus.PENDING)
    assert pending.access_code == body["access_code"]
    assert portal_events(patient) == ["portal.invite", "portal.resend"]
    assert len(mail.outbox) == 1  # the resend's email (the first invite ran outside send_email)
    assert [e["action"] for e in body["timeline"]] == ["portal.resend", "portal.invite"]


def test_cancel_kills_the_pending_invite(admin_api, admin, patient, send_email):
    invitation = invite(admin, patient)

    with send_email:
        response = admin_api.post(f"/patients/{patient.public_id}/portal/cancel")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "cancelled"
    assert body["status_label"] == "Invite cancelled"
    assert body["access_code"] is None
    assert body["actions"] == ["invite"]
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.CANCELLED
    assert portal_events(patient) == ["portal.invite", "portal.cancel"]
    assert mail.outbox == []


def test_revoke_after_the_patient_registered(admin_api, admin, patient):
    enroll(admin, patient)

    response = admin_api.post(f"/patients/{patient.public_id}/portal/revoke")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "revoked"
    assert body["status_label"] == "Access revoked"
    assert body["actions"] == ["invite"]
    assert portal_events(patient) == ["portal.invite", "portal.register", "portal.revoke"]
    assert AuditEvent.objects.get(action="portal.revoke").actor == admin


def test_invite_again_after_revoke_issues_a_new_code(admin_api, admin, patient, send_email):
    enroll(admin, patient)
    admin_api.post(f"/patients/{patient.public_id}/portal/revoke")

    with send_email:
        response = admin_api.post(f"/patients/{patient.public_id}/portal/invite", {})

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "invited"
    assert len(mail.outbox) == 1
    assert portal_events(patient)[-1] == "portal.invite"


@pytest.mark.parametrize(
    ("state", "action", "detail"),
    [
        (
            "not_invited",
            "resend",
            "This can't be done while the chart's portal status is “Not invited”.",
        ),
        ("not_invited", "cancel", "Only a pending invite can be cancelled."),
        ("not_invited", "revoke", "Only an enrolled patient's access can be revoked."),
        (
            "invited",
            "invite",
            "This can't be done while the chart's portal status is “Invite pending”.",
        ),
        ("invited", "revoke", "Only an enrolled patient's access can be revoked."),
        ("active", "invite", "This can't be done while the chart's portal status is “Enrolled”."),
        ("active", "resend", "This can't be done while the chart's portal status is “Enrolled”."),
        ("active", "cancel", "Only a pending invite can be cancelled."),
    ],
)
def test_action_in_the_wrong_state_is_409_and_changes_nothing(
    admin_api, admin, patient, send_email, state, action, detail
):
    if state == "invited":
        invite(admin, patient)
    elif state == "active":
        enroll(admin, patient)
    before = snapshot()

    with send_email:
        response = admin_api.post(f"/patients/{patient.public_id}/portal/{action}", {})

    body = assert_error_body(response, 409)
    assert body["detail"].startswith(detail)
    assert body["errors"] == {}
    assert snapshot() == before
    assert mail.outbox == []


def test_portal_status_shows_the_live_code_and_the_timeline(admin_api, admin, patient):
    invitation = invite(admin, patient)

    response = admin_api.get(f"/patients/{patient.public_id}/portal")

    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "invited"
    assert body["access_code"] == invitation.access_code
    assert body["locked"] is False
    assert body["timeline"][0]["label"] == "Invited to the patient portal"


def test_reading_a_chart_is_audited(admin_api, admin, patient):
    admin_api.get(f"/patients/{patient.public_id}")
    admin_api.get(f"/patients/{patient.public_id}/portal")

    views = AuditEvent.objects.filter(patient=patient, action="chart.view", actor=admin)
    assert sorted(e.details["page"] for e in views) == ["api demographics", "api portal status"]
