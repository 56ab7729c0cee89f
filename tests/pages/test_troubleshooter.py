"""The "Portal access troubleshooter" in the chart's portal window (SPEC §4.4–4.5, issue 3)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from portico.accounts.models import User
from portico.audit.models import AuditEvent
from portico.notifications.models import OutboundEmail
from portico.portal import registration
from portico.portal import services as portal
from portico.portal.models import AccessState, Invitation, InvitationStatus, PortalAccess
from tests import factories
from tests.factories import sign_in
from tests.pages.conftest import action_url, chart_url
from tests.pages.html import messages, parse

pytestmark = pytest.mark.django_db

BOUNCE = "550 5.1.1 <robin@nowhere.example>: Recipient address rejected: User unknown"


def trouble(client, patient):
    page = parse(client.get(chart_url(patient, portal="open")))
    return page.one("section", class_="troubleshooter")


def steps(section) -> dict[str, str]:
    return {li["data-step"]: li.text for li in section.find_all("li", **{"data-step": True})}


def timeline(section) -> list[str]:
    return [li.one(class_="timeline-what").text for li in section.one("ol").find_all("li")]


def email_of(invitation) -> OutboundEmail:
    return OutboundEmail.objects.get(subject_id=invitation.public_id)


def lock_account(user: User) -> None:
    now = timezone.now()
    User.objects.filter(pk=user.pk).update(
        locked_at=now, failed_sign_ins=10, sign_in_blocked_until=now + dt.timedelta(hours=1)
    )


# -- the next step -------------------------------------------------------------------------


def test_bounced_email_says_fix_the_address_and_resend_with_the_servers_answer(
    staff_client, admin, patient
):
    invitation = factories.invite(admin, patient)
    OutboundEmail.objects.filter(pk=email_of(invitation).pk).update(
        state="bounced", last_error=BOUNCE
    )

    section = trouble(staff_client, patient)

    advice = steps(section)["bounced"]
    assert advice.startswith(f"The enrollment email to {patient.email} bounced")
    assert BOUNCE in advice
    assert "fix it in the form above and resend the invite" in advice
    assert f"Enrollment email to {patient.email} bounced" in timeline(section)
    assert BOUNCE in section.one("li", class_="timeline-problem").text


def test_sent_but_no_registration_after_three_days_says_check_spam_and_safe_senders(
    staff_client, admin, patient, settings, time_machine
):
    time_machine.move_to(timezone.now())
    invitation = factories.invite(admin, patient)
    OutboundEmail.objects.filter(pk=email_of(invitation).pk).update(
        state="sent", sent_at=timezone.now()
    )
    assert "no_registration" not in steps(trouble(staff_client, patient))

    time_machine.shift(dt.timedelta(days=3, minutes=1))
    sign_in(staff_client, admin)  # days later: the earlier session has timed out

    advice = steps(trouble(staff_client, patient))["no_registration"]
    assert "spam or junk folder" in advice
    assert settings.PORTICO_ENROLLMENT_FROM in advice
    assert "resend the invite" in advice


def test_days_before_the_spam_advice_come_from_a_setting(
    staff_client, admin, patient, settings, time_machine
):
    settings.PORTICO_TROUBLESHOOT_NO_REGISTRATION_DAYS = 1
    time_machine.move_to(timezone.now())
    invitation = factories.invite(admin, patient)
    OutboundEmail.objects.filter(pk=email_of(invitation).pk).update(
        state="sent", sent_at=timezone.now()
    )
    time_machine.shift(dt.timedelta(days=1, minutes=1))
    sign_in(staff_client, admin)  # a day later: the earlier session has timed out

    assert "no_registration" in steps(trouble(staff_client, patient))


def test_locked_invitation_says_resend(staff_client, admin, patient):
    invitation = factories.invite(admin, patient)
    Invitation.objects.filter(pk=invitation.pk).update(locked_at=timezone.now(), failed_attempts=5)

    advice = steps(trouble(staff_client, patient))

    assert list(advice) == ["invitation_locked"]
    assert "Resend the invite" in advice["invitation_locked"]


def test_pending_invite_says_read_them_the_access_code(staff_client, admin, patient):
    factories.invite(admin, patient)

    assert "Read them the access code" in steps(trouble(staff_client, patient))["lost_code"]


def test_text_code_asked_with_the_wrong_phone_says_check_the_phone(
    staff_client, admin, patient, sms_outbox
):
    from portico.portal import tokens

    invitation = factories.invite(admin, patient)
    registration.security_code_request(
        token=tokens.link_token(invitation.link_nonce),
        date_of_birth=patient.date_of_birth,
        phone="(202) 555-0199",
    )

    section = trouble(staff_client, patient)

    assert "(202) 555-0123" in steps(section)["phone_mismatch"]
    assert any("did not match" in line for line in timeline(section))


def test_enrolled_patient_forgot_username_is_told_it_is_their_email(staff_client, admin, patient):
    account = factories.enroll(admin, patient, email="robin.home@example.test")

    advice = steps(trouble(staff_client, patient))

    assert f"It is their email address: {account.email}" in advice["forgot_username"]
    assert "account_locked" not in advice


def test_locked_account_says_unlock_and_offers_it(staff_client, admin, patient):
    account = factories.enroll(admin, patient)
    lock_account(account)

    section = trouble(staff_client, patient)

    assert "Unlock it" in steps(section)["account_locked"]
    assert section.one("button", text="Unlock account")


# -- the timeline --------------------------------------------------------------------------


def test_timeline_shows_invitations_emails_registration_and_the_accounts_sign_ins(
    staff_client, admin, patient, send_email
):
    from django.test import RequestFactory

    from portico.accounts.services import SignInFailed, sign_in_check

    with send_email:
        invitation = factories.invite(admin, patient)
    account = registration.registration_create_account(
        invitation_id=str(invitation.public_id), email=patient.email, password=factories.PASSWORD
    )
    request = RequestFactory().post("/accounts/sign-in/")
    with pytest.raises(SignInFailed):
        sign_in_check(request, login=account.email, password="not the password")
    AuditEvent.objects.create(actor=account, actor_label="Robin", action="account.sign_in")

    lines = timeline(trouble(staff_client, patient))

    for expected in (
        "Invited to the patient portal",
        f"Enrollment email to {patient.email} sent",
        "Patient registered",
        "Failed sign-in",
        "Signed in",
    ):
        assert expected in lines


def test_timeline_shows_no_other_accounts_or_charts_events(staff_client, admin, patient, practice):
    other = factories.make_patient(practice)
    factories.enroll(admin, other)
    stranger = factories.make_user()
    AuditEvent.objects.create(actor=stranger, actor_label="x", action="account.sign_in")

    section = trouble(staff_client, patient)
    assert section.find("ol") is None
    assert "Nothing has happened yet." in section.text


def test_window_costs_the_same_queries_however_long_the_history(
    staff_client, admin, patient, django_assert_max_num_queries
):
    def queries() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            staff_client.get(chart_url(patient, portal="open"))
        return len(captured.captured_queries)

    account = factories.enroll(admin, patient)
    short = queries()
    for _ in range(15):
        portal.access_revoke(admin, patient=patient)
        factories.invite(admin, patient)
        portal.invitation_resend(admin, patient=patient)
        invitation = PortalAccess.objects.get(patient=patient).current_invitation
        registration.registration_link_account(account, invitation_id=str(invitation.public_id))
        AuditEvent.objects.create(actor=account, actor_label="Robin", action="account.sign_in")

    with django_assert_max_num_queries(short):
        staff_client.get(chart_url(patient, portal="open"))


# -- unlock and reset ----------------------------------------------------------------------


def test_unlock_asks_first_then_unlocks(staff_client, admin, patient):
    account = factories.enroll(admin, patient)
    lock_account(account)

    first = staff_client.post(action_url(patient, "unlock"))
    assert "Unlock the patient's account?" in parse(first).text
    account.refresh_from_db()
    assert account.is_locked

    response = staff_client.post(action_url(patient, "unlock"), {"confirmed": "yes"}, follow=True)

    assert "The patient's account was unlocked." in messages(parse(response))
    account.refresh_from_db()
    assert not account.is_locked
    assert AuditEvent.objects.filter(action="account.unlocked", patient=patient).exists()


def test_reset_of_an_enrolled_patient_revokes_and_invites_again(staff_client, admin, patient):
    factories.enroll(admin, patient)
    old = PortalAccess.objects.get(patient=patient).current_invitation

    first = staff_client.post(action_url(patient, "reset"))
    assert "Reset the patient's portal account?" in parse(first).text
    assert PortalAccess.objects.get(patient=patient).state == AccessState.ACTIVE

    response = staff_client.post(action_url(patient, "reset"), {"confirmed": "yes"}, follow=True)

    assert "The portal account was reset." in " ".join(messages(parse(response)))
    access = PortalAccess.objects.get(patient=patient)
    assert access.state == AccessState.INVITED
    assert access.current_invitation != old
    assert access.current_invitation.status == InvitationStatus.PENDING
    actions = list(
        AuditEvent.objects.filter(patient=patient, action__startswith="portal.")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions[-3:] == ["portal.revoke", "portal.invite", "portal.reset"]


def test_reset_of_a_pending_invite_cancels_it_and_invites_again(admin, patient):
    old = factories.invite(admin, patient)

    new = portal.portal_account_reset(admin, patient=patient)

    old.refresh_from_db()
    assert old.status == InvitationStatus.CANCELLED
    assert new.status == InvitationStatus.PENDING
    assert new.access_code != old.access_code or new.link_nonce != old.link_nonce


@pytest.mark.parametrize("action", ["unlock", "reset"])
def test_unlock_and_reset_are_refused_without_the_invite_permission(
    client, non_inviter, admin, patient, action
):
    account = factories.enroll(admin, patient)
    lock_account(account)
    factories.sign_in(client, non_inviter)

    for data in ({}, {"confirmed": "yes"}):
        assert client.post(action_url(patient, action), data).status_code == 403
    account.refresh_from_db()
    assert account.is_locked
    assert PortalAccess.objects.get(patient=patient).state == AccessState.ACTIVE
    page = parse(client.get(chart_url(patient, portal="open")))
    assert page.find("button", text="Unlock account") is None
    assert page.find("button", text="Reset portal account") is None


def test_unlock_and_reset_of_another_practices_chart_is_404(client, outsider, admin, patient):
    factories.enroll(admin, patient)
    factories.sign_in(client, outsider)

    for action in ("unlock", "reset"):
        assert client.post(action_url(patient, action), {"confirmed": "yes"}).status_code == 404
    assert PortalAccess.objects.get(patient=patient).state == AccessState.ACTIVE


def test_unlocking_an_account_that_is_not_locked_says_so(staff_client, admin, patient):
    factories.enroll(admin, patient)

    response = staff_client.post(action_url(patient, "unlock"), {"confirmed": "yes"}, follow=True)

    assert "The patient's account is not locked." in messages(parse(response))
