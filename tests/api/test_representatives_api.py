"""SPEC §9.1 through the API: a chart's representatives listed, invited, read, corrected,
resent, cancelled, revoked and invited again, through the same services as the portal window
(the same audit events and enrollment email), refused to staff who may not invite, and not
found for another practice."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.core import mail
from django.utils import timezone

from portico.audit.models import AuditEvent
from portico.notifications.models import OutboundEmail
from portico.portal import services as portal
from portico.portal.models import (
    AccessState,
    Invitation,
    InvitationStatus,
    PortalAccess,
    Representative,
)
from portico.portal.services import ENROLLMENT_EMAIL
from tests.api.conftest import assert_error_body
from tests.factories import enroll, enroll_representative, invite_representative, make_patient

pytestmark = pytest.mark.django_db

NEW = {"name": "Maria Rivera", "relationship": "parent", "email": "Maria@Example.test"}


def representatives_path(patient) -> str:
    return f"/patients/{patient.public_id}/representatives"


def representative_snapshot() -> tuple:
    return (
        sorted(Representative.objects.values_list("public_id", "name", "relationship", "state")),
        sorted(Invitation.objects.values_list("public_id", "status")),
        AuditEvent.objects.count(),
        len(mail.outbox),
    )


# --- Refusals first ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "method, action",
    [
        ("post", "resend"),
        ("post", "cancel"),
        ("post", "revoke"),
        ("post", "reinvite"),
        ("put", ""),
    ],
)
def test_staff_who_may_not_invite_get_403_and_nothing_changes(
    api_as, admin, non_inviter, practice, patient, send_email, method, action
):
    _account, enrolled = enroll_representative(admin, patient)
    pending = invite_representative(admin, patient, name="Pat Pending")
    cancelled = invite_representative(admin, patient, name="Cas Cancelled")
    portal.representative_cancel(admin, representative=cancelled)
    target = {"revoke": enrolled, "reinvite": cancelled}.get(action, pending)
    api_client = api_as(non_inviter, practice)
    before = representative_snapshot()

    with send_email:
        path = f"/representatives/{target.public_id}" + (f"/{action}" if action else "")
        body = {"name": "X", "relationship": "other"} if method == "put" else {}
        response = api_client.call(method, path, body)
        invited = api_client.post(representatives_path(patient), NEW)

    for refused in (response, invited):
        body = assert_error_body(refused, 403)
        assert body["detail"] == "You do not have permission to invite patients to the portal."
    assert representative_snapshot() == before


def test_staff_who_may_not_invite_still_read_the_list_without_actions(
    api_as, admin, non_inviter, practice, patient
):
    invite_representative(admin, patient)

    response = api_as(non_inviter, practice).get(representatives_path(patient))

    assert response.status_code == 200
    (listed,) = response.json()
    assert listed["status"] == "invited" and listed["actions"] == []


def test_another_practices_chart_and_representatives_are_not_found(
    api_as, admin, outsider, other_practice, patient, send_email
):
    _account, representative = enroll_representative(admin, patient)
    outsider_api = api_as(outsider, other_practice)
    before = representative_snapshot()

    with send_email:
        responses = [
            outsider_api.get(representatives_path(patient)),
            outsider_api.post(representatives_path(patient), NEW),
            outsider_api.get(f"/representatives/{representative.public_id}"),
            outsider_api.call(
                "put",
                f"/representatives/{representative.public_id}",
                {"name": "X", "relationship": "other"},
            ),
            *(
                outsider_api.post(f"/representatives/{representative.public_id}/{action}")
                for action in ("resend", "cancel", "revoke", "reinvite")
            ),
            outsider_api.get(f"/representatives/{uuid.uuid4()}"),
        ]

    for response in responses:
        assert assert_error_body(response, 404)["detail"] == "Not found."
    assert representative_snapshot() == before  # not even a chart-view audit event


@pytest.mark.parametrize(
    "change, field",
    [
        ({"name": "   "}, "name"),
        ({"relationship": "neighbour"}, "relationship"),
        ({"email": "not an email"}, "email"),
        ({"email": ""}, "email"),
        ({"phone": "12"}, "phone"),
        ({"ends_on": "2000-01-01"}, "ends_on"),
        ({"ends_on": "01/02/2030"}, "ends_on"),
        ({"dob": "2000-01-01"}, "dob"),
    ],
)
def test_a_bad_invitation_is_422_naming_the_field_and_stores_nothing(
    admin_api, patient, send_email, change, field
):
    before = representative_snapshot()

    with send_email:
        response = admin_api.post(representatives_path(patient), NEW | change)

    body = assert_error_body(response, 422)
    assert field in body["errors"]
    assert representative_snapshot() == before


def test_a_malformed_representative_id_is_422(admin_api):
    response = admin_api.get("/representatives/not-a-uuid")
    assert "representative_id" in assert_error_body(response, 422)["errors"]


def test_an_action_that_does_not_fit_the_state_is_409(admin_api, admin, patient):
    representative = invite_representative(admin, patient)

    response = admin_api.post(f"/representatives/{representative.public_id}/revoke")

    assert assert_error_body(response, 409)["detail"] == (
        "Only an enrolled representative's access can be revoked."
    )


# --- Listing and reading ------------------------------------------------------------------------


def test_the_list_shows_every_representative_with_state_code_and_actions(admin_api, admin, patient):
    pending = invite_representative(admin, patient, name="Maria Rivera", relationship="parent")
    _account, enrolled = enroll_representative(
        admin, patient, name="Carl Carter", relationship="caregiver"
    )

    response = admin_api.get(representatives_path(patient))

    assert response.status_code == 200
    carl, maria = response.json()
    assert carl["id"] == str(enrolled.public_id) and carl["patient_id"] == str(patient.public_id)
    assert (carl["name"], carl["relationship"], carl["relationship_label"]) == (
        "Carl Carter",
        "caregiver",
        "Caregiver",
    )
    assert (carl["status"], carl["status_label"]) == ("active", "Enrolled")
    assert carl["email"] == enrolled.account.email and carl["access_code"] is None
    assert carl["actions"] == ["revoke", "edit"]
    assert maria["status"] == "invited" and maria["ends_on"] is None
    assert maria["access_code"] == pending.current_invitation.access_code
    assert maria["actions"] == ["resend", "cancel", "edit"]
    view = AuditEvent.objects.filter(action="chart.view", patient=patient).get()
    assert view.details["page"] == "api representatives"


def test_one_representative_is_read_and_audited(admin_api, admin, patient):
    representative = invite_representative(admin, patient)

    response = admin_api.get(f"/representatives/{representative.public_id}")

    assert response.status_code == 200
    assert response.json()["name"] == "Jordan Rivera"
    assert AuditEvent.objects.filter(action="chart.view", patient=patient).exists()


# --- Actions ----------------------------------------------------------------------------------


def test_inviting_a_representative_sends_their_own_enrollment_email(
    admin_api, admin, patient, send_email
):
    ends = (timezone.localdate() + dt.timedelta(days=60)).isoformat()

    with send_email:
        response = admin_api.post(
            representatives_path(patient), NEW | {"phone": "(202) 555-0177", "ends_on": ends}
        )

    assert response.status_code == 201, response.content
    body = response.json()
    representative = Representative.objects.get(patient=patient)
    assert body["id"] == str(representative.public_id)
    assert body["status"] == "invited" and body["ends_on"] == ends
    assert body["email"] == "maria@example.test" and body["phone"] == "+12025550177"
    assert body["access_code"] == representative.current_invitation.access_code
    assert mail.outbox[-1].to == ["maria@example.test"]
    assert body["access_code"] not in mail.outbox[-1].body
    event = AuditEvent.objects.get(action="portal.representative_invite")
    assert event.actor == admin and event.details["representative"] == body["id"]
    email = OutboundEmail.objects.get(subject_id=representative.current_invitation.public_id)
    assert email.kind == ENROLLMENT_EMAIL and email.patient == patient


def test_resend_gives_a_new_code_to_a_new_address(admin_api, admin, patient, send_email):
    representative = invite_representative(admin, patient)
    first = representative.current_invitation

    with send_email:
        response = admin_api.post(
            f"/representatives/{representative.public_id}/resend",
            {"email": "new@example.test"},
        )

    assert response.status_code == 200, response.content
    assert response.json()["email"] == "new@example.test"
    assert response.json()["access_code"] != first.access_code
    assert Invitation.objects.get(pk=first.pk).status == InvitationStatus.SUPERSEDED
    assert mail.outbox[-1].to == ["new@example.test"]


def test_cancel_then_invite_again_with_the_last_address(admin_api, admin, patient, send_email):
    representative = invite_representative(admin, patient, email="maria@example.test")

    cancelled = admin_api.post(f"/representatives/{representative.public_id}/cancel")
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["actions"] == ["reinvite", "edit"]
    with send_email:
        again = admin_api.post(f"/representatives/{representative.public_id}/reinvite")

    assert again.status_code == 200, again.content
    assert again.json()["status"] == "invited"
    assert mail.outbox[-1].to == ["maria@example.test"]


def test_revoking_a_representative_leaves_the_patients_access(admin_api, admin, patient):
    enroll(admin, patient)
    _account, representative = enroll_representative(admin, patient)

    response = admin_api.post(f"/representatives/{representative.public_id}/revoke")

    assert response.status_code == 200
    assert response.json()["status"] == "revoked"
    assert PortalAccess.objects.get(patient=patient).state == AccessState.ACTIVE
    assert AuditEvent.objects.filter(action="portal.representative_revoke").count() == 1


def test_correcting_a_representative_replaces_name_relationship_and_end_date(
    admin_api, admin, patient
):
    representative = invite_representative(admin, patient, ends_on=None)
    ends = (timezone.localdate() + dt.timedelta(days=10)).isoformat()

    response = admin_api.call(
        "put",
        f"/representatives/{representative.public_id}",
        {"name": "Maria R. Rivera", "relationship": "guardian", "ends_on": ends},
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["name"], body["relationship"], body["ends_on"]) == (
        "Maria R. Rivera",
        "guardian",
        ends,
    )
    cleared = admin_api.call(
        "put",
        f"/representatives/{representative.public_id}",
        {"name": "Maria R. Rivera", "relationship": "guardian"},
    )
    assert cleared.json()["ends_on"] is None


def test_the_patients_portal_timeline_says_which_representative(admin_api, admin, patient):
    representative = invite_representative(admin, patient)

    timeline = admin_api.get(f"/patients/{patient.public_id}/portal").json()["timeline"]

    assert [(e["label"], e["representative_id"]) for e in timeline] == [
        ("Representative invited", str(representative.public_id))
    ]


def test_a_representative_of_another_chart_of_the_practice_is_found_by_its_own_id(
    admin_api, admin, practice
):
    other = make_patient(practice)
    representative = invite_representative(admin, other)

    response = admin_api.get(f"/representatives/{representative.public_id}")

    assert response.json()["patient_id"] == str(other.public_id)
