"""Invite, resend, cancel and revoke from the "Patient portal access" window (SPEC §3.2–3.7)."""

import pytest
from django.core import mail

from portico.audit.models import AuditEvent
from portico.portal.models import AccessState, Invitation, InvitationStatus, PortalAccess
from tests import factories
from tests.factories import sign_in
from tests.pages.conftest import action_url, chart_url
from tests.pages.html import field_errors, messages, parse

pytestmark = pytest.mark.django_db

ACTIONS = ["invite", "resend", "cancel", "revoke"]


def state_of(patient) -> str:
    access = PortalAccess.objects.filter(patient=patient).first()
    return access.effective_state if access else AccessState.NOT_INVITED


# -- refusals first ------------------------------------------------------------------------


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("confirmed", ["", "yes"])
def test_member_without_invite_right_gets_403_and_nothing_changes(
    client, non_inviter, patient, action, confirmed
):
    sign_in(client, non_inviter)
    response = client.post(
        action_url(patient, action),
        {"email": patient.email, "phone": "", "confirmed": confirmed},
    )

    assert response.status_code == 403
    assert not Invitation.objects.exists()
    assert not PortalAccess.objects.exists()


def test_unknown_action_is_404(staff_client, patient):
    assert staff_client.post(action_url(patient, "delete")).status_code == 404


@pytest.mark.parametrize("action", ACTIONS)
def test_actions_refuse_get(staff_client, patient, action):
    assert staff_client.get(action_url(patient, action)).status_code == 405


@pytest.mark.parametrize(
    ("action", "message"),
    [
        ("resend", "can't be done while the chart's portal status is “Not invited”"),
        ("cancel", "Only a pending invite can be cancelled."),
        ("revoke", "Only an enrolled patient's access can be revoked."),
    ],
)
def test_action_that_does_not_fit_the_state_is_refused_with_a_message(
    staff_client, patient, action, message
):
    response = staff_client.post(
        action_url(patient, action),
        {"email": patient.email, "phone": "", "confirmed": "yes"},
        follow=True,
    )

    assert any(message in m for m in messages(parse(response)))
    assert state_of(patient) == AccessState.NOT_INVITED
    assert not Invitation.objects.exists()


def test_inviting_an_invited_chart_again_is_refused(staff_client, admin, patient):
    first = factories.invite(admin, patient)
    staff_client.post(
        action_url(patient, "invite"), {"email": patient.email, "phone": "", "confirmed": "yes"}
    )

    assert list(Invitation.objects.all()) == [first]


# -- inviting asks for confirmation --------------------------------------------------------


def test_invite_first_asks_for_confirmation_and_changes_nothing(staff_client, patient):
    response = staff_client.post(
        action_url(patient, "invite"), {"email": "robin@new.example", "phone": "2025550188"}
    )

    page = parse(response)
    confirm = page.one("dialog", id="portal-window").one(class_="confirm")
    assert "make sure all the information is correct" in confirm.text
    assert confirm.one("button", type="submit").text == "Invite"
    assert confirm.one("input", name="confirmed")["value"] == "yes"
    assert confirm.one("input", name="email")["value"] == "robin@new.example"
    assert "robin@new.example" in confirm.text
    assert "(202) 555-0188" in confirm.text
    assert not Invitation.objects.exists()
    assert not PortalAccess.objects.exists()
    assert mail.outbox == []


def test_confirmed_invite_creates_invitation_and_sends_email(
    staff_client, staff, patient, send_email
):
    with send_email:
        response = staff_client.post(
            action_url(patient, "invite"),
            {"email": "robin@new.example", "phone": "(202) 555-0188", "confirmed": "yes"},
            follow=True,
        )

    invitation = Invitation.objects.get()
    assert invitation.email == "robin@new.example"
    assert invitation.phone == "+12025550188"
    assert invitation.created_by == staff
    assert state_of(patient) == AccessState.INVITED
    assert [m.to for m in mail.outbox] == [["robin@new.example"]]
    # Back on the chart with the window open: the code is there to hand over.
    assert response.redirect_chain[-1][0] == chart_url(patient, portal="open")
    page = parse(response)
    assert invitation.access_code_display in page.one("dialog", id="portal-window").text
    assert "The invitation was sent." in " ".join(messages(page))


def test_edited_enrollment_address_also_corrects_the_chart(staff_client, patient):
    staff_client.post(
        action_url(patient, "invite"),
        {"email": "Robin@New.Example", "phone": "202-555-0188", "confirmed": "yes"},
    )

    patient.refresh_from_db()
    assert patient.email == "robin@new.example"
    assert patient.mobile_phone == "+12025550188"


@pytest.mark.parametrize(
    ("action", "button", "after"),
    [
        ("resend", "Resend invite", AccessState.INVITED),
        ("cancel", "Cancel invite", AccessState.CANCELLED),
    ],
)
def test_pending_invite_actions_ask_then_act(staff_client, admin, patient, action, button, after):
    first = factories.invite(admin, patient)
    data = {"email": patient.email, "phone": ""}

    ask = parse(staff_client.post(action_url(patient, action), data))
    assert ask.one(class_="confirm").one("button", type="submit").text == button
    assert Invitation.objects.get() == first

    staff_client.post(action_url(patient, action), {**data, "confirmed": "yes"})

    first.refresh_from_db()
    assert first.status in (InvitationStatus.SUPERSEDED, InvitationStatus.CANCELLED)
    assert state_of(patient) == after


def test_revoke_asks_then_ends_access(staff_client, admin, patient):
    factories.enroll(admin, patient)

    ask = parse(staff_client.post(action_url(patient, "revoke")))
    assert ask.one(class_="confirm").one("button", type="submit").text == "Revoke access"
    assert state_of(patient) == AccessState.ACTIVE

    staff_client.post(action_url(patient, "revoke"), {"confirmed": "yes"})
    assert state_of(patient) == AccessState.REVOKED
    page = parse(staff_client.get(chart_url(patient)))
    assert page.one("button", title="Patient portal status").text == "Access revoked"


def test_each_action_is_on_the_timeline_with_who_did_it(staff_client, staff, patient):
    staff_client.post(
        action_url(patient, "invite"), {"email": patient.email, "phone": "", "confirmed": "yes"}
    )
    staff_client.post(action_url(patient, "cancel"), {"confirmed": "yes"})

    assert list(
        AuditEvent.objects.filter(actor=staff, action__startswith="portal.")
        .order_by("id")
        .values_list("action", "actor_label")
    ) == [("portal.invite", "Stan Staff"), ("portal.cancel", "Stan Staff")]


# -- bad input in the window ---------------------------------------------------------------


@pytest.mark.parametrize("confirmed", ["", "yes"])
@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"email": "not-an-email", "phone": ""}, "email", "Enter a valid email address."),
        ({"email": "", "phone": ""}, "email", "An email address is needed"),
        ({"email": "robin@example.test", "phone": "12"}, "phone", "Enter a valid phone number"),
        ({"email": "robin@example.test", "phone": "call me"}, "phone", "Enter a valid phone"),
    ],
)
def test_bad_contact_details_show_next_to_the_field_and_change_nothing(
    staff_client, patient, data, field, message, confirmed
):
    before = (patient.email, patient.mobile_phone)
    response = staff_client.post(action_url(patient, "invite"), {**data, "confirmed": confirmed})

    page = parse(response)
    errors = field_errors(page, f"id_{field}")
    assert errors and message in errors[0]
    # The field keeps what was typed, so it can be corrected.
    assert page.one("input", name=field).get("value", "") == data[field]
    assert page.find(class_="confirm") is None
    assert not Invitation.objects.exists()
    assert not PortalAccess.objects.exists()
    patient.refresh_from_db()
    assert (patient.email, patient.mobile_phone) == before
