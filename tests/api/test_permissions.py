"""SPEC §1.4: a user whose right to invite was taken away is refused every portal action by
the API (403 on their own practice's patients) and nothing changes; they can still read."""

import pytest
from django.core import mail

from tests.api.conftest import assert_error_body, snapshot
from tests.factories import enroll, invite

# Each action with the state in which it would otherwise succeed.
ACTIONS = [
    ("invite", None),
    ("resend", "invited"),
    ("cancel", "invited"),
    ("revoke", "active"),
]


@pytest.mark.parametrize(("action", "state"), ACTIONS)
def test_user_who_may_not_invite_gets_403_and_nothing_changes(
    api_as, admin, non_inviter, practice, patient, send_email, action, state
):
    if state == "invited":
        invite(admin, patient)
    elif state == "active":
        enroll(admin, patient)
    api_client = api_as(non_inviter, practice)
    before = snapshot()
    sent = len(mail.outbox)

    with send_email:
        response = api_client.post(f"/patients/{patient.public_id}/portal/{action}", {})

    body = assert_error_body(response, 403)
    assert body["detail"] == "You do not have permission to invite patients to the portal."
    assert snapshot() == before
    assert len(mail.outbox) == sent


def test_refusal_comes_before_checking_the_body(api_as, non_inviter, practice, patient):
    """No permission: the answer is 403 even when the address is bad (nothing to fix)."""
    response = api_as(non_inviter, practice).post(
        f"/patients/{patient.public_id}/portal/invite", {"email": "not-an-email"}
    )
    assert_error_body(response, 403)


def test_user_who_may_not_invite_can_still_read(api_as, admin, non_inviter, practice, patient):
    invitation = invite(admin, patient)
    api_client = api_as(non_inviter, practice)

    listed = api_client.get("/patients")
    chart = api_client.get(f"/patients/{patient.public_id}")
    portal = api_client.get(f"/patients/{patient.public_id}/portal")

    assert listed.status_code == 200
    assert [p["id"] for p in listed.json()["items"]] == [str(patient.public_id)]
    assert chart.status_code == 200
    assert chart.json()["portal_status"] == "invited"
    assert portal.status_code == 200
    assert portal.json()["status"] == "invited"
    assert portal.json()["access_code"] == invitation.access_code
    # They see the state but are offered no action (the pages hide the buttons the same way).
    assert portal.json()["actions"] == []


def test_taking_the_right_away_applies_to_an_existing_token(
    api_as, staff, practice, patient, send_email
):
    api_client = api_as(staff, practice)
    staff.memberships.filter(practice=practice).update(may_invite_patients=False)

    response = api_client.post(f"/patients/{patient.public_id}/portal/invite", {})

    assert_error_body(response, 403)
    assert not patient.invitations.exists()
