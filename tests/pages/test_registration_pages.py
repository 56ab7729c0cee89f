"""The patient's registration pages: "Access your records", then an account (SPEC §3.5)."""

import datetime as dt

import pytest
from django.conf import settings
from django.urls import reverse

from portico.audit.models import AuditEvent
from portico.portal import registration
from portico.portal import services as portal
from portico.portal.models import AccessState, Invitation, InvitationStatus, PortalAccess
from tests import factories
from tests.factories import PASSWORD, sign_in
from tests.pages.conftest import account_url, register_url, verify
from tests.pages.html import form_errors, parse

pytestmark = pytest.mark.django_db

EXPIRED = (
    "This registration link has expired. Please ask your practice to enroll you "
    "in the patient portal again."
)


def access_state(patient) -> str:
    return PortalAccess.objects.get(patient=patient).effective_state


def create_account(client, invitation, email="robin@home.example", password=PASSWORD, again=None):
    return client.post(
        account_url(invitation),
        {
            "choice": "create",
            "new-email": email,
            "new-password": password,
            "new-password_again": password if again is None else again,
        },
    )


# -- dead links first ----------------------------------------------------------------------


def _used(admin, patient):
    invitation = factories.invite(admin, patient)
    registration.registration_create_account(
        invitation_id=str(invitation.public_id), email="robin@home.example", password=PASSWORD
    )
    return invitation


def _superseded(admin, patient):
    invitation = factories.invite(admin, patient)
    portal.invitation_resend(admin, patient=patient)
    return invitation


def _cancelled(admin, patient):
    invitation = factories.invite(admin, patient)
    portal.invitation_cancel(admin, patient=patient)
    return invitation


def _expired(admin, patient):
    invitation = factories.invite(admin, patient)
    Invitation.objects.filter(pk=invitation.pk).update(
        expires_at=invitation.created_at - dt.timedelta(seconds=1)
    )
    return invitation


def _reinvited_after_revoke(admin, patient):
    invitation = factories.invite(admin, patient)
    registration.registration_create_account(
        invitation_id=str(invitation.public_id), email="robin@home.example", password=PASSWORD
    )
    portal.access_revoke(admin, patient=patient)
    factories.invite(admin, patient)
    return invitation


@pytest.mark.parametrize(
    "make_dead_link", [_used, _superseded, _cancelled, _expired, _reinvited_after_revoke]
)
@pytest.mark.parametrize("step", [register_url, account_url])
def test_dead_link_says_it_expired_and_to_ask_the_practice(
    client, admin, patient, make_dead_link, step
):
    invitation = make_dead_link(admin, patient)

    for response in (client.get(step(invitation)), verify(client, invitation)):
        page = parse(response)
        assert response.status_code == 410
        assert page.one("h1").text == "This registration link has expired"
        assert page.one(class_="access-error").text == EXPIRED
        assert page.find("input", name="access_code") is None


def test_made_up_link_gets_the_same_expired_answer(client):
    response = client.get(reverse("portal:register", args=["not-a-real-token"]))

    assert response.status_code == 410
    assert parse(response).one(class_="access-error").text == EXPIRED


# -- wrong answers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dob", "code"),
    [("1980-04-22", None), (None, "AAAA-BBBB"), ("1999-01-01", "ZZZZZZZZ")],
)
def test_wrong_answer_shows_a_clear_error_and_counts(client, invited, dob, code):
    response = verify(client, invited, dob=dob, code=code)

    assert response.status_code == 200
    assert form_errors(parse(response)) == [
        "The date of birth or access code does not match. You have 4 tries left."
    ]
    invited.refresh_from_db()
    assert invited.failed_attempts == 1
    assert "portal_registration" not in client.session
    # The form keeps the date so the patient can correct only what was wrong.
    assert client.get(account_url(invited)).status_code == 302


def test_five_wrong_answers_lock_the_invitation(client, invited):
    for left in (4, 3, 2):
        page = parse(verify(client, invited, code="WRONGWRO"))
        assert f"You have {left} tries left." in form_errors(page)[0]
    page = parse(verify(client, invited, code="WRONGWRO"))
    assert "You have 1 try left." in form_errors(page)[0]

    locked = verify(client, invited, code="WRONGWRO")
    assert locked.status_code == 403
    assert parse(locked).one("h1").text == "This invitation is locked"

    # Even the right answer no longer works; the link shows the locked page.
    again = verify(client, invited)
    assert parse(again).one("h1").text == "This invitation is locked"
    assert parse(client.get(register_url(invited))).one("h1").text == "This invitation is locked"
    invited.refresh_from_db()
    assert invited.locked_at is not None
    assert access_state(invited.patient) == AccessState.INVITED


def test_staff_see_the_lock_and_a_new_invite_unlocks(client, admin, invited):
    Invitation.objects.filter(pk=invited.pk).update(
        failed_attempts=settings.PORTICO_INVITATION_MAX_CODE_ATTEMPTS, locked_at=invited.created_at
    )
    sign_in(client, admin)
    page = parse(
        client.get(reverse("charts:chart", args=[invited.patient.public_id]) + "?portal=open")
    )
    assert "Locked: too many wrong codes" in page.one("dialog").text

    fresh = portal.invitation_resend(admin, patient=invited.patient)
    client.logout()
    assert verify(client, fresh).status_code == 302


# -- the happy path ------------------------------------------------------------------------


def test_access_your_records_page_asks_for_date_of_birth_and_access_code(client, invited):
    page = parse(client.get(register_url(invited)))

    assert page.one("h1").text == "Access your records"
    assert "Riverside Clinic" in page.one("main").text
    dob = page.one("input", name="date_of_birth")
    assert dob["type"] == "date"
    assert page.one("label", for_=dob["id"]).text.startswith("Date of birth")
    code = page.one("input", name="access_code")
    assert page.one("label", for_=code["id"]).text.startswith("Access code")


def test_right_answers_lead_to_the_account_step(client, invited):
    response = verify(client, invited, code=invited.access_code_display.lower())

    assert response.status_code == 302
    assert response["Location"] == account_url(invited)
    page = parse(client.get(account_url(invited)))
    assert page.one("h1").text == "Set up your account"
    assert page.one("input", name="new-email")["value"] == invited.email


def test_account_step_without_verifying_goes_back_to_step_one(client, invited):
    response = create_account(client, invited)

    assert response.status_code == 302
    assert response["Location"] == register_url(invited)
    assert access_state(invited.patient) == AccessState.INVITED


def test_creating_an_account_enrolls_and_lands_on_the_record(client, invited, practice):
    verify(client, invited)
    response = create_account(client, invited, email="Robin@Home.Example")
    response = client.get(response["Location"], follow=True)

    account = PortalAccess.objects.get(patient=invited.patient).account
    assert account.email == "robin@home.example"
    assert account.check_password(PASSWORD)
    assert access_state(invited.patient) == AccessState.ACTIVE
    invited.refresh_from_db()
    assert invited.status == InvitationStatus.USED
    page = parse(response)
    assert "Riverside Clinic" in page.one("section", aria_labelledby="practice-heading").text
    about = page.one("section", aria_labelledby="about-heading").text
    assert invited.patient.full_name in about
    assert "April 21, 1980" in about
    assert "(202) 555-0123" in about
    # The link is single use.
    assert client.get(register_url(invited)).status_code == 410


def test_signing_in_to_an_existing_account_links_the_record(client, invited):
    existing = factories.make_user("robin@home.example")
    verify(client, invited)

    response = client.post(
        account_url(invited),
        {"choice": "link", "existing-email": "ROBIN@home.example", "existing-password": PASSWORD},
        follow=True,
    )

    assert PortalAccess.objects.get(patient=invited.patient).account == existing
    assert response.context["user"] == existing
    assert parse(response).one("h1").text == invited.patient.full_name


def test_signed_in_patient_can_add_the_record_to_the_current_account(client, admin, practice):
    first = factories.make_patient(practice, email="robin@home.example")
    account = factories.enroll(admin, first, email="robin@home.example")
    second_practice = factories.make_practice("Lakeside Pediatrics")
    second_admin = factories.make_admin(second_practice)
    other_chart = factories.make_patient(second_practice)
    invitation = factories.invite(second_admin, other_chart)
    sign_in(client, account)
    verify(client, invitation)

    page = parse(client.get(account_url(invitation)))
    assert page.find("button", text="Add this record to my account") is not None
    client.post(account_url(invitation), {"choice": "current"})

    assert PortalAccess.objects.get(patient=other_chart).account == account
    home = parse(client.get(reverse("portal:home")))
    assert {h.text for h in home.find_all("h2")} == {"Riverside Clinic", "Lakeside Pediatrics"}


def test_verification_is_audited_without_the_answers(client, invited):
    verify(client, invited, code="WRONGWRO")
    verify(client, invited)

    events = list(
        AuditEvent.objects.filter(patient=invited.patient).values_list("action", "details")
    )
    assert ("portal.verify_failed", {"invitation": str(invited.public_id), "attempt": 1}) in events
    assert any(action == "portal.verified" for action, _ in events)
    assert invited.access_code not in str(events)
