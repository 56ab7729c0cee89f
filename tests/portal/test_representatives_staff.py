"""SPEC §9.1, the practice's side: the chart's "Patient portal access" window lists every
representative with their state and the actions it allows, staff invite, resend, cancel,
revoke, invite again, unlock and edit them through the page, the timeline names the
representative of each event, and each representative has their own troubleshooter.

Refusals first: staff without the right to invite, another chart's or practice's
representative, bad input; then the list, the actions, the timeline and the troubleshooter.
"""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from portico.accounts.models import User
from portico.audit.models import AuditEvent
from portico.notifications.models import OutboundEmail
from portico.portal import services as portal
from portico.portal.models import AccessState, Invitation, PortalAccess, Representative
from tests.factories import (
    enroll,
    enroll_representative,
    invite_representative,
    make_patient,
    sign_in,
)
from tests.pages.conftest import chart_url
from tests.pages.html import field_errors, messages, parse

pytestmark = pytest.mark.django_db

BOUNCE = "550 5.1.1 <maria@nowhere.example>: Recipient address rejected: User unknown"


# --- Helpers -------------------------------------------------------------------------------


def invite_url(patient) -> str:
    return reverse("charts:representative_invite", args=[patient.public_id])


def action_url(representative, action: str, patient=None) -> str:
    patient = patient or representative.patient
    return reverse(
        "charts:representative_action",
        args=[patient.public_id, representative.public_id, action],
    )


def troubleshooter_url(representative, patient=None) -> str:
    patient = patient or representative.patient
    return reverse(
        "charts:representative_troubleshooter",
        args=[patient.public_id, representative.public_id],
    )


def window(client, patient):
    return parse(client.get(chart_url(patient, portal="open"))).one("dialog", id="portal-window")


def section(page):
    return page.one("section", class_="representatives")


def entry(page, representative):
    """A representative's entry in the window's list."""
    return section(page).one("li", **{"data-representative": str(representative.public_id)})


def facts(element) -> dict[str, str]:
    terms = element.one("dl").find_all("dt")
    values = element.one("dl").find_all("dd")
    return {t.text: v.text for t, v in zip(terms, values, strict=True)}


def offered(element) -> set[str]:
    """What staff can do from a representative's entry: buttons and the forms to open."""
    return {b.text for b in element.find_all("button") if b.text != "Save"} | {
        s.text for s in element.find_all("summary")
    }


def steps(page) -> dict[str, str]:
    trouble = page.one("section", class_="troubleshooter")
    return {li["data-step"]: li.text for li in trouble.find_all("li", **{"data-step": True})}


def timeline(page) -> list[str]:
    """Each line of the troubleshooter's timeline: what happened, and for whom."""
    trouble = page.one("section", class_="troubleshooter")
    ordered = trouble.find("ol")
    if ordered is None:
        return []
    lines = []
    for li in ordered.find_all("li"):
        who = li.find(class_="timeline-for")
        lines.append(li.one(class_="timeline-what").text + (f" | {who.text}" if who else ""))
    return lines


INVITE = {
    "rep-name": "Maria Rivera",
    "rep-relationship": "parent",
    "rep-email": "Maria@Example.test",
    "rep-phone": "(202) 555-0177",
    "rep-ends_on": "",
}


def snapshot(patient):
    """Everything a refused action must leave as it was."""
    return (
        list(Representative.objects.filter(patient=patient).values().order_by("pk")),
        list(Invitation.objects.filter(patient=patient).values().order_by("pk")),
        AuditEvent.objects.exclude(action="chart.view").count(),
        OutboundEmail.objects.count(),
    )


@pytest.fixture
def admin_client(client, admin):
    sign_in(client, admin)
    return client


@pytest.fixture
def pending(admin, patient):
    return invite_representative(admin, patient, name="Maria Rivera", email="maria@example.test")


@pytest.fixture
def enrolled(admin, patient):
    _account, representative = enroll_representative(
        admin, patient, name="Carl Carter", relationship="caregiver"
    )
    return representative


# --- Refusals: the right to invite, tenancy, methods ------------------------------------------


def test_staff_who_may_not_invite_see_the_representatives_but_no_action(
    client, non_inviter, patient, pending, enrolled
):
    sign_in(client, non_inviter)
    page = window(client, patient)

    assert entry(page, pending).one("h4").text == "Maria Rivera"
    assert facts(entry(page, enrolled))["Status"] == "Enrolled"
    assert section(page).find_all("button") == []
    assert section(page).find_all("form") == []
    # The troubleshooter is for everyone who works in the chart.
    assert entry(page, pending).find("a", text="Troubleshoot Maria Rivera's portal access")


@pytest.mark.parametrize(
    "action, data",
    [
        ("resend", {}),
        ("cancel", {}),
        ("revoke", {}),
        ("reinvite", {}),
        ("unlock", {}),
        ("edit", {"name": "X", "relationship": "other"}),
    ],
)
@pytest.mark.parametrize("confirmed", ["", "yes"])
def test_staff_who_may_not_invite_get_403_and_nothing_changes(
    client, non_inviter, patient, pending, enrolled, action, data, confirmed
):
    sign_in(client, non_inviter)
    before = snapshot(patient)
    target = enrolled if action in ("revoke", "unlock") else pending
    prefix = f"rep-{target.public_id}-"
    body = {prefix + k: v for k, v in data.items()} | {"confirmed": confirmed}

    assert client.post(action_url(target, action), body).status_code == 403
    assert client.post(invite_url(patient), INVITE | {"confirmed": confirmed}).status_code == 403
    assert snapshot(patient) == before


def test_another_practices_staff_find_neither_the_chart_nor_its_representatives(
    client, outsider, patient, pending
):
    sign_in(client, outsider)
    before = snapshot(patient)

    assert client.post(invite_url(patient), INVITE | {"confirmed": "yes"}).status_code == 404
    assert client.post(action_url(pending, "cancel"), {"confirmed": "yes"}).status_code == 404
    assert client.get(troubleshooter_url(pending)).status_code == 404
    assert snapshot(patient) == before


def test_another_charts_representative_is_not_found_through_this_chart(
    admin_client, admin, practice, patient, pending
):
    other = make_patient(practice)
    before = snapshot(patient)

    response = admin_client.post(action_url(pending, "cancel", patient=other), {"confirmed": "yes"})

    assert response.status_code == 404
    assert admin_client.get(troubleshooter_url(pending, patient=other)).status_code == 404
    assert snapshot(patient) == before


def test_unknown_action_is_404_and_actions_refuse_get(admin_client, patient, pending):
    assert admin_client.post(action_url(pending, "delete"), {"confirmed": "yes"}).status_code == 404
    assert admin_client.get(action_url(pending, "cancel")).status_code == 405
    assert admin_client.get(invite_url(patient)).status_code == 405
    assert admin_client.post(troubleshooter_url(pending)).status_code == 405
    assert Representative.objects.get(pk=pending.pk).state == AccessState.INVITED


# --- Bad input: clear messages next to the field, nothing changes -----------------------------


@pytest.mark.parametrize(
    "change, field, message",
    [
        ({"rep-name": "  "}, "name", "Enter the representative's name."),
        ({"rep-relationship": ""}, "relationship", "Choose the representative's relationship."),
        ({"rep-relationship": "neighbour"}, "relationship", "Choose the representative's"),
        ({"rep-email": "not an email"}, "email", "Enter a valid email address."),
        ({"rep-email": ""}, "email", "An email address is needed to send the enrollment email."),
        ({"rep-phone": "12"}, "phone", "Enter a valid phone number"),
        ({"rep-ends_on": "2026-02-30"}, "ends_on", "Enter a real date."),
    ],
)
@pytest.mark.parametrize("confirmed", ["", "yes"])
def test_a_bad_invitation_shows_its_message_next_to_the_field_and_stores_nothing(
    admin_client, patient, change, field, message, confirmed
):
    response = admin_client.post(invite_url(patient), INVITE | change | {"confirmed": confirmed})

    assert response.status_code == 400
    page = parse(response)
    assert any(e.startswith(message) for e in field_errors(page, f"id_rep-{field}"))
    assert page.one("details", class_="representative-form", open=True).one("summary").text == (
        "Invite a representative"
    )
    assert not Representative.objects.exists()
    assert not Invitation.objects.exists()


def test_an_end_date_in_the_past_is_refused_at_the_confirmation(admin_client, patient):
    yesterday = (timezone.localdate() - dt.timedelta(days=2)).isoformat()

    response = admin_client.post(
        invite_url(patient), INVITE | {"rep-ends_on": yesterday, "confirmed": "yes"}
    )

    assert response.status_code == 400
    assert field_errors(parse(response), "id_rep-ends_on") == ["The end date can't be in the past."]
    assert not Representative.objects.exists()


def test_a_bad_edit_shows_its_message_and_changes_nothing(admin_client, patient, pending):
    prefix = f"rep-{pending.public_id}-"
    before = snapshot(patient)

    response = admin_client.post(
        action_url(pending, "edit"), {prefix + "name": "", prefix + "relationship": "parent"}
    )

    assert response.status_code == 400
    page = parse(response)
    assert field_errors(page, f"id_{prefix}name") == ["Enter the representative's name."]
    assert entry(page, pending).one("details", open=True)
    assert snapshot(patient) == before


def test_a_bad_address_for_a_resend_shows_its_message_and_sends_nothing(
    admin_client, patient, pending
):
    prefix = f"rep-{pending.public_id}-"
    before = snapshot(patient)

    response = admin_client.post(
        action_url(pending, "resend"), {prefix + "email": "nope", "confirmed": "yes"}
    )

    assert response.status_code == 400
    assert field_errors(parse(response), f"id_{prefix}email") == ["Enter a valid email address."]
    assert snapshot(patient) == before


@pytest.mark.parametrize(
    "action, message",
    [
        ("revoke", "Only an enrolled representative's access can be revoked."),
        ("unlock", "Only an enrolled representative's account can be unlocked."),
        ("reinvite", "This can't be done while the representative's status is “Invite pending”."),
    ],
)
def test_an_action_that_does_not_fit_the_state_is_refused_with_a_message(
    admin_client, patient, pending, action, message
):
    prefix = f"rep-{pending.public_id}-"
    before = snapshot(patient)

    response = admin_client.post(
        action_url(pending, action),
        {prefix + "email": "maria@example.test", prefix + "phone": "", "confirmed": "yes"},
        follow=True,
    )

    assert message in messages(parse(response))
    assert snapshot(patient) == before


# --- The list --------------------------------------------------------------------------------


def test_the_window_lists_each_representative_with_state_and_the_actions_it_allows(
    admin_client, admin, patient, pending, enrolled, time_machine
):
    time_machine.move_to(timezone.now(), tick=False)
    cancelled = invite_representative(admin, patient, name="Cass Cancel", relationship="other")
    portal.representative_cancel(admin, representative=cancelled)
    _account, revoked = enroll_representative(admin, patient, name="Rex Revoked")
    portal.representative_revoke(admin, representative=revoked)
    expired = invite_representative(admin, patient, name="Eve Expired", relationship="spouse")
    Invitation.objects.filter(pk=expired.current_invitation.pk).update(
        expires_at=timezone.now() - dt.timedelta(minutes=1)
    )

    page = window(admin_client, patient)

    names = [li.one("h4").text for li in section(page).find_all("li", class_="representative")]
    assert names == sorted(names) and len(names) == 5
    expected = {
        pending: ("Invite pending", {"Cancel invite", "Resend invite"}),
        enrolled: ("Enrolled", {"Revoke access"}),
        cancelled: ("Invite cancelled", {"Invite again"}),
        revoked: ("Access revoked", {"Invite again"}),
        expired: ("Invite expired", {"Invite again"}),
    }
    for representative, (state, actions) in expected.items():
        element = entry(page, representative)
        assert facts(element)["Status"] == state, representative.name
        assert offered(element) == actions | {"Edit name, relationship or end date"}
    assert facts(entry(page, enrolled))["Relationship"] == "Caregiver"
    assert facts(entry(page, expired))["Relationship"] == "Spouse or partner"


def test_a_pending_invite_shows_its_access_code_and_an_enrolled_one_the_accounts_email(
    admin_client, patient, pending, enrolled
):
    page = window(admin_client, patient)

    code = pending.current_invitation.access_code
    assert facts(entry(page, pending))["Access code"].startswith(f"{code[:4]}-{code[4:]}")
    assert facts(entry(page, pending))["Enrollment email"] == "maria@example.test"
    assert facts(entry(page, enrolled))["Account email"] == enrolled.account.email
    assert "Access code" not in facts(entry(page, enrolled))


def test_the_window_says_revoking_one_access_does_not_end_the_other(
    admin_client, admin, patient, enrolled
):
    enroll(admin, patient)
    page = window(admin_client, patient)
    assert "Revoking the patient's access does not end their representatives' access" in (
        section(page).text
    )
    assert "does not change the patient's" in section(page).text

    from tests.pages.conftest import action_url as patient_action_url

    confirm = parse(admin_client.post(patient_action_url(patient, "revoke")))
    assert "This patient's representatives keep their own access" in (
        confirm.one(class_="confirm").text
    )
    revoke = parse(admin_client.post(action_url(enrolled, "revoke")))
    assert "The patient's own access, and other representatives', are not changed." in (
        revoke.one(class_="confirm").text
    )


def test_a_parents_entry_says_when_the_access_narrows_and_ends(admin_client, admin, practice):
    practice.time_zone = "America/New_York"
    practice.save()
    with time_machine.travel(dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC), tick=False):
        child = make_patient(practice, date_of_birth=dt.date(2013, 3, 10))
        _account, mother = enroll_representative(admin, child, name="Maria Rivera")
        sign_in(admin_client, admin)
        note = entry(window(admin_client, child), mother).one(class_="representative-note").text

    assert "Narrowed since the patient turned 12" in note
    assert "Ends when the patient turns 18, on Mar 10, 2031, unless they renew it." in note


def test_a_parents_access_that_ended_at_coming_of_age_is_the_patients_to_renew(
    admin_client, admin, practice
):
    with time_machine.travel(dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC), tick=False):
        child = make_patient(practice, date_of_birth=dt.date(2009, 3, 10))
        _account, mother = enroll_representative(admin, child, name="Maria Rivera")
    with time_machine.travel(dt.datetime(2027, 6, 1, 12, tzinfo=dt.UTC), tick=False):
        sign_in(admin_client, admin)
        page = window(admin_client, child)
        trouble = parse(admin_client.get(troubleshooter_url(mother)))

    element = entry(page, mother)
    assert facts(element)["Status"] == "Access ended"
    assert "Ended when the patient turned 18; only the patient can renew it." in element.text
    assert offered(element) == {"Edit name, relationship or end date"}
    assert "Only the patient can renew it" in steps(trouble)["came_of_age"]


# --- The actions through the page -------------------------------------------------------------


def test_inviting_a_representative_asks_to_confirm_then_invites(
    admin_client, admin, patient, send_email
):
    first = parse(admin_client.post(invite_url(patient), INVITE))

    confirm = first.one(class_="confirm")
    assert "Please make sure all the information is correct." in confirm.text
    assert facts(confirm) == {
        "Representative's name": "Maria Rivera",
        "Relationship": "Parent",
        "Representative's email": "maria@example.test",
        "Representative's mobile phone": "(202) 555-0177",
        "End date": "None",
    }
    assert not Representative.objects.exists()

    hidden = {i["name"]: i["value"] for i in confirm.find_all("input", type="hidden")}
    with send_email:
        response = admin_client.post(invite_url(patient), hidden, follow=True)

    representative = Representative.objects.get(patient=patient)
    assert representative.name == "Maria Rivera" and representative.relationship == "parent"
    assert representative.state == AccessState.INVITED
    invitation = representative.current_invitation
    assert (invitation.email, invitation.phone) == ("maria@example.test", "+12025550177")
    assert mail.outbox[-1].to == ["maria@example.test"]
    page = parse(response)
    assert "Maria Rivera was invited as a representative." in " ".join(messages(page))
    code = invitation.access_code
    assert facts(entry(page, representative))["Access code"].startswith(f"{code[:4]}-{code[4:]}")
    event = AuditEvent.objects.get(action="portal.representative_invite")
    assert event.actor == admin and event.patient == patient


def test_an_end_date_is_stored_with_the_invitation(admin_client, patient):
    ends = (timezone.localdate() + dt.timedelta(days=90)).isoformat()

    admin_client.post(invite_url(patient), INVITE | {"rep-ends_on": ends, "confirmed": "yes"})

    assert Representative.objects.get(patient=patient).ends_on.isoformat() == ends


def test_resend_gives_the_representative_a_new_code_and_leaves_the_patients_alone(
    admin_client, admin, patient, pending, send_email
):
    own = portal.invitation_issue(admin, patient=patient)
    old = pending.current_invitation
    prefix = f"rep-{pending.public_id}-"
    body = {prefix + "email": "maria.new@example.test", prefix + "phone": ""}

    first = parse(admin_client.post(action_url(pending, "resend"), body))
    assert "Resend Maria Rivera's invite?" in first.one(class_="confirm").text
    with send_email:
        response = admin_client.post(
            action_url(pending, "resend"), body | {"confirmed": "yes"}, follow=True
        )

    pending.refresh_from_db()
    assert pending.current_invitation != old
    assert pending.current_invitation.email == "maria.new@example.test"
    assert Invitation.objects.get(pk=old.pk).status == "superseded"
    assert Invitation.objects.get(pk=own.pk).status == "pending"
    assert mail.outbox[-1].to == ["maria.new@example.test"]
    assert "A new invitation was sent to Maria Rivera." in " ".join(messages(parse(response)))


def test_cancel_then_invite_again(admin_client, patient, pending):
    admin_client.post(action_url(pending, "cancel"), {"confirmed": "yes"})
    pending.refresh_from_db()
    assert pending.effective_state == AccessState.CANCELLED
    assert pending.current_invitation.status == "cancelled"

    prefix = f"rep-{pending.public_id}-"
    response = admin_client.post(
        action_url(pending, "reinvite"),
        {prefix + "email": "maria@example.test", prefix + "phone": "", "confirmed": "yes"},
        follow=True,
    )

    pending.refresh_from_db()
    assert pending.effective_state == AccessState.INVITED
    assert "Maria Rivera was invited again." in " ".join(messages(parse(response)))


def test_revoking_a_representative_ends_their_access_and_not_the_patients(
    client, admin, patient, enrolled
):
    patient_account = enroll(admin, patient)
    sign_in(client, admin)

    first = parse(client.post(action_url(enrolled, "revoke")))
    assert "Revoke Carl Carter's access to this record?" in first.one(class_="confirm").text
    assert Representative.objects.get(pk=enrolled.pk).state == AccessState.ACTIVE
    response = client.post(action_url(enrolled, "revoke"), {"confirmed": "yes"}, follow=True)

    assert "Carl Carter's access was revoked." in messages(parse(response))
    assert Representative.objects.get(pk=enrolled.pk).state == AccessState.REVOKED
    assert PortalAccess.objects.get(patient=patient).state == AccessState.ACTIVE
    # The representative's next request is refused; the patient's is not.
    sign_in(client, enrolled.account)
    record = reverse("records:record", kwargs={"access_id": enrolled.public_id})
    assert client.get(record).status_code == 403
    sign_in(client, patient_account)
    own = reverse("records:record", kwargs={"access_id": PortalAccess.objects.get().public_id})
    assert client.get(own).status_code == 200


def test_editing_changes_the_name_relationship_and_end_date(admin_client, admin, pending):
    prefix = f"rep-{pending.public_id}-"
    ends = (timezone.localdate() + dt.timedelta(days=30)).isoformat()

    response = admin_client.post(
        action_url(pending, "edit"),
        {
            prefix + "name": "Maria R. Rivera",
            prefix + "relationship": "guardian",
            prefix + "ends_on": ends,
        },
        follow=True,
    )

    pending.refresh_from_db()
    assert (pending.name, pending.relationship, pending.ends_on.isoformat()) == (
        "Maria R. Rivera",
        "guardian",
        ends,
    )
    assert "Maria R. Rivera's details were saved." in messages(parse(response))
    event = AuditEvent.objects.get(action="portal.representative_update")
    assert event.details["changed"] == ["name", "relationship", "ends_on"]


def test_a_representatives_locked_account_is_unlocked_after_a_confirmation(
    admin_client, admin, patient, enrolled
):
    now = timezone.now()
    User.objects.filter(pk=enrolled.account_id).update(
        locked_at=now, failed_sign_ins=10, sign_in_blocked_until=now + dt.timedelta(hours=1)
    )
    page = window(admin_client, patient)
    assert "Unlock account" in offered(entry(page, enrolled))

    first = parse(admin_client.post(action_url(enrolled, "unlock")))
    assert "Unlock Carl Carter's account?" in first.one(class_="confirm").text
    response = admin_client.post(action_url(enrolled, "unlock"), {"confirmed": "yes"}, follow=True)

    assert "Carl Carter's account was unlocked." in messages(parse(response))
    assert not User.objects.get(pk=enrolled.account_id).is_locked
    event = AuditEvent.objects.get(action="account.unlocked", patient=patient)
    assert event.details["representative"] == str(enrolled.public_id)


# --- The timeline names the representative ----------------------------------------------------


def test_the_timeline_names_the_representative_of_each_event(
    admin_client, admin, patient, enrolled
):
    patient_account = enroll(admin, patient)
    portal.representative_end(
        patient_account,
        access=PortalAccess.objects.get(patient=patient),
        representative=enrolled,
    )
    maria = invite_representative(admin, patient, name="Maria Rivera")
    portal.representative_resend(admin, representative=maria)

    lines = timeline(parse(admin_client.get(chart_url(patient, portal="open"))))

    carl, maria_named = (
        "Representative: Carl Carter (caregiver)",
        "Representative: Maria Rivera (parent)",
    )
    for expected in (
        f"Representative invited | {carl}",
        f"Representative registered | {carl}",
        f"Patient ended a representative's access | {carl}",
        f"Representative invited | {maria_named}",
        f"Representative's invite resent (new access code) | {maria_named}",
        "Invited to the patient portal",
        "Patient registered",
    ):
        assert expected in lines, (expected, lines)


def test_the_timeline_names_representatives_in_a_fixed_number_of_queries(
    admin_client, admin, patient
):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            admin_client.get(chart_url(patient, portal="open"))
        return len(captured.captured_queries)

    enroll_representative(admin, patient, name="First One")
    one = queries()
    for n in range(6):
        _account, representative = enroll_representative(admin, patient, name=f"Rep {n}")
        portal.representative_revoke(admin, representative=representative)
        portal.representative_reinvite(admin, representative=representative)

    assert queries() == one


def test_the_api_timeline_says_which_representative(admin, patient, pending):
    from portico.portal.selectors import portal_timeline

    (event,) = portal_timeline(patient)
    assert event.label == "Representative invited"
    assert event.representative.public_id == str(pending.public_id)
    assert str(event.representative) == "Maria Rivera (parent)"


# --- Each representative's troubleshooter ----------------------------------------------------


def test_a_representatives_troubleshooter_shows_only_their_history(
    admin_client, admin, patient, pending, enrolled
):
    enroll(admin, patient)

    page = parse(admin_client.get(troubleshooter_url(pending)))

    trouble = page.one("section", class_="troubleshooter")
    assert trouble.one("h3").text == "Portal access troubleshooter: Maria Rivera (Parent)"
    lines = timeline(page)
    assert "Representative invited" in lines
    assert any(line.startswith("Enrollment email to maria@example.test") for line in lines)
    assert "Invited to the patient portal" not in lines  # the patient's own
    assert "Patient registered" not in lines
    assert not any("Carl" in line or "Representative registered" in line for line in lines)
    assert "Read them the access code" in steps(page)["lost_code"]
    assert page.one("dialog", id="portal-window").get("open") is not None


def test_a_representatives_bounced_email_says_fix_their_address_and_resend(admin_client, pending):
    email = OutboundEmail.objects.get(subject_id=pending.current_invitation.public_id)
    OutboundEmail.objects.filter(pk=email.pk).update(state="bounced", last_error=BOUNCE)

    page = parse(admin_client.get(troubleshooter_url(pending)))

    advice = steps(page)["bounced"]
    assert advice.startswith("The enrollment email to maria@example.test bounced")
    assert "Check the email address with the representative" in advice and BOUNCE in advice
    # The patient's troubleshooter shows the bounce too, and whose it was.
    lines = timeline(parse(admin_client.get(chart_url(pending.patient, portal="open"))))
    assert (
        "Enrollment email to maria@example.test bounced | Representative: Maria Rivera (parent)"
        in lines
    )


def test_a_representatives_locked_invitation_and_wrong_codes_show_in_their_troubleshooter(
    admin_client, patient, pending, settings
):
    from portico.portal import registration, tokens

    invitation = pending.current_invitation
    for _ in range(settings.PORTICO_INVITATION_MAX_CODE_ATTEMPTS):
        with pytest.raises(registration.RegistrationError):
            registration.registration_verify(
                token=tokens.link_token(invitation.link_nonce),
                date_of_birth=patient.date_of_birth,
                access_code="WRONGWRO",
            )

    page = parse(admin_client.get(troubleshooter_url(pending)))

    assert list(steps(page)) == ["invitation_locked"]
    assert "the representative gets a new link" in steps(page)["invitation_locked"]
    lines = timeline(page)
    assert "Invitation locked after too many wrong codes" in lines
    assert "Wrong date of birth or access code entered" in lines
    assert facts(entry(page, pending))["Status"].endswith("Locked: too many wrong codes")
    # In the patient's troubleshooter, the same lines say whose invitation it was.
    whole = timeline(parse(admin_client.get(chart_url(patient, portal="open"))))
    assert (
        "Invitation locked after too many wrong codes | Representative: Maria Rivera (parent)"
        in whole
    )


def test_a_representatives_expired_invitation_says_invite_them_again(
    admin_client, admin, pending, time_machine
):
    time_machine.move_to(timezone.now() + dt.timedelta(days=31))
    sign_in(admin_client, admin)  # a month later: the earlier session has timed out

    advice = steps(parse(admin_client.get(troubleshooter_url(pending))))

    assert advice == {"expired": "The invitation expired. Invite the representative again."}


def test_a_representatives_locked_account_says_unlock_it(admin_client, enrolled):
    now = timezone.now()
    User.objects.filter(pk=enrolled.account_id).update(
        locked_at=now, failed_sign_ins=10, sign_in_blocked_until=now + dt.timedelta(hours=1)
    )

    page = parse(admin_client.get(troubleshooter_url(enrolled)))

    assert "The representative's account is locked" in steps(page)["account_locked"]
    trouble = page.one("section", class_="troubleshooter")
    assert trouble.one("button", text="Unlock account")
    assert enrolled.account.email in steps(page)["forgot_username"]


def test_the_representative_the_patient_ended_is_explained(admin_client, admin, patient, enrolled):
    patient_account = enroll(admin, patient)
    portal.representative_end(
        patient_account, access=PortalAccess.objects.get(patient=patient), representative=enrolled
    )

    page = parse(admin_client.get(troubleshooter_url(enrolled)))

    assert "The patient ended this representative's access." in steps(page)["ended_by_patient"]
    assert "The patient ended this access." in entry(page, enrolled).text


# --- Audit: the pages are the chart page, audited as its read ---------------------------------


def test_the_troubleshooter_and_a_bad_form_are_audited_as_reads_of_the_chart(
    admin_client, admin, patient, pending
):
    def views() -> int:
        return AuditEvent.objects.filter(action="chart.view", patient=patient).count()

    before = views()
    admin_client.get(troubleshooter_url(pending))
    assert views() == before + 1
    admin_client.post(invite_url(patient), INVITE | {"rep-name": ""})
    assert views() == before + 2
    # A refused request shows nothing and reads nothing.
    admin_client.post(action_url(pending, "delete"))
    assert views() == before + 2


# --- Accessibility of the window with representatives ------------------------------------------


def test_every_control_of_the_representatives_has_one_label_and_ids_are_unique(
    admin_client, admin, patient, pending, enrolled
):
    from tests.pages.test_accessibility import controls

    cancelled = invite_representative(admin, patient, name="Cass Cancel")
    portal.representative_cancel(admin, representative=cancelled)
    prefix = f"rep-{pending.public_id}-"
    pages = {
        "window": admin_client.get(chart_url(patient, portal="open")),
        "invite with errors": admin_client.post(invite_url(patient), INVITE | {"rep-email": "x"}),
        "invite confirmation": admin_client.post(invite_url(patient), INVITE),
        "edit with errors": admin_client.post(action_url(pending, "edit"), {prefix + "name": ""}),
        "resend with errors": admin_client.post(
            action_url(pending, "resend"), {prefix + "email": "x"}
        ),
        "troubleshooter": admin_client.get(troubleshooter_url(enrolled)),
    }
    for name, response in pages.items():
        page = parse(response)
        ids = [el["id"] for el in page.iter() if el.get("id")]
        assert len(ids) == len(set(ids)), f"{name}: duplicate ids"
        for control in controls(page):
            labels = page.find_all("label", for_=control["id"])
            assert len(labels) == 1 and labels[0].text, f"{name}: #{control['id']}"
