"""EHR Settings > "Patient communications" > "PHR invite": the auto-invite switch (SPEC §5.1)."""

import pytest
from django.urls import reverse

from portico.audit.models import AuditEvent
from portico.practices.models import Practice
from portico.practices.services import AUTO_INVITE_NEEDS_SMS_MESSAGE, auto_invite_set
from tests.factories import sign_in
from tests.pages.html import messages, parse

pytestmark = pytest.mark.django_db

PHR_INVITE = reverse("practices:phr_invite")
AUTO_INVITE = reverse("practices:auto_invite")


def enabled(practice) -> bool:
    return Practice.objects.get(pk=practice.pk).auto_invite_enabled


def switch(page):
    form = page.one("form", action=AUTO_INVITE)
    return {
        form.one("label", for_=radio["id"]).text: radio.get("checked") is not None
        for radio in form.find_all("input", type="radio", name="auto_invite")
    }


def test_the_switch_is_its_own_form_and_shows_off_by_default(admin_client):
    page = parse(admin_client.get(PHR_INVITE))
    assert switch(page) == {"On: invite eligible patients automatically": False, "Off": True}
    assert page.one("form", action=AUTO_INVITE).one("legend").text == "Auto-invite is"


def test_an_administrator_turns_auto_invite_on_and_off_and_it_is_audited(
    admin_client, admin, practice
):
    page = parse(admin_client.post(AUTO_INVITE, {"auto_invite": "on"}, follow=True))
    assert enabled(practice) and messages(page) == ["Auto-invite is on."]
    assert switch(page)["On: invite eligible patients automatically"] is True

    page = parse(admin_client.post(AUTO_INVITE, {"auto_invite": "off"}, follow=True))
    assert not enabled(practice)
    assert messages(page) == ["Auto-invite is off: no more patients are invited automatically."]
    events = AuditEvent.objects.filter(action="settings.auto_invite").order_by("id")
    assert [(e.actor, e.details["enabled"]) for e in events] == [(admin, True), (admin, False)]


def test_saving_the_same_value_changes_and_audits_nothing(admin_client, practice):
    page = parse(admin_client.post(AUTO_INVITE, {"auto_invite": "off"}, follow=True))
    assert messages(page) == ["Nothing changed."]
    assert not AuditEvent.objects.filter(action="settings.auto_invite").exists()


@pytest.mark.parametrize("bad", [None, "", "yes", "1", "ON"])
def test_anything_but_on_or_off_is_refused_next_to_the_field(admin_client, practice, bad):
    response = admin_client.post(AUTO_INVITE, {} if bad is None else {"auto_invite": bad})
    assert response.status_code == 400
    fieldset = parse(response).one("form", action=AUTO_INVITE).one("fieldset")
    assert fieldset.one(id="auto-invite-error").text == "Choose on or off."
    assert not enabled(practice)


@pytest.mark.parametrize("who", ["staff", "provider", "non_inviter"])
def test_only_administrators_may_switch_it(client, request, who, practice):
    sign_in(client, request.getfixturevalue(who))
    assert client.post(AUTO_INVITE, {"auto_invite": "on"}).status_code == 403
    assert not enabled(practice)


def test_an_administrator_elsewhere_switches_only_their_own_practice(
    client, outsider, other_practice, practice
):
    sign_in(client, outsider)
    client.post(AUTO_INVITE, {"auto_invite": "on"})
    assert enabled(other_practice) and not enabled(practice)


def test_the_switch_only_answers_post(admin_client):
    assert admin_client.get(AUTO_INVITE).status_code == 405


# -- without a text-message backend (SMS_URL empty) ------------------------------------------


def sms_note(page):
    """The note next to the switch about the text-message backend, or None."""
    fieldset = page.one("form", action=AUTO_INVITE).one("fieldset")
    notes = fieldset.find_all(id="auto-invite-sms")
    if not notes:
        return None
    assert "auto-invite-sms" in fieldset["aria-describedby"].split()
    return notes[0].text


def test_with_a_text_message_backend_the_switch_has_no_note(admin_client):
    assert sms_note(parse(admin_client.get(PHR_INVITE))) is None


def test_without_a_text_message_backend_the_switch_says_why_it_cannot_be_turned_on(
    admin_client, settings
):
    settings.SMS_URL = ""
    note = sms_note(parse(admin_client.get(PHR_INVITE)))
    assert note.startswith("Auto-invite can't be turned on yet")
    assert "security code sent by text message" in note and "SMS_URL" in note


def test_turning_auto_invite_on_without_a_text_message_backend_is_refused_next_to_the_switch(
    admin_client, practice, settings
):
    settings.SMS_URL = ""
    response = admin_client.post(AUTO_INVITE, {"auto_invite": "on"})

    assert response.status_code == 400
    page = parse(response)
    fieldset = page.one("form", action=AUTO_INVITE).one("fieldset")
    assert fieldset.one(id="auto-invite-error").text == AUTO_INVITE_NEEDS_SMS_MESSAGE
    assert fieldset["aria-describedby"] == "auto-invite-error"
    assert sms_note(page) is None  # the error says it; no second copy
    assert not enabled(practice)
    assert not AuditEvent.objects.filter(action="settings.auto_invite").exists()


def test_when_the_backend_goes_away_the_tab_says_auto_invite_is_on_but_paused(
    admin_client, admin, practice, settings
):
    auto_invite_set(admin, practice=practice, enabled=True)
    settings.SMS_URL = ""

    page = parse(admin_client.get(PHR_INVITE))

    assert switch(page)["On: invite eligible patients automatically"] is True
    note = sms_note(page)
    assert note.startswith("Auto-invite is on but paused: no patient is invited automatically")
    assert "The operator of Portico must set SMS_URL" in note


def test_turning_a_paused_auto_invite_off_works_without_a_backend(
    admin_client, admin, practice, settings
):
    auto_invite_set(admin, practice=practice, enabled=True)
    settings.SMS_URL = ""

    page = parse(admin_client.post(AUTO_INVITE, {"auto_invite": "off"}, follow=True))

    assert not enabled(practice)
    assert messages(page) == ["Auto-invite is off: no more patients are invited automatically."]
    assert sms_note(page).startswith("Auto-invite can't be turned on yet")


def test_saying_on_again_while_paused_keeps_the_paused_note_beside_the_error(
    admin_client, admin, practice, settings
):
    auto_invite_set(admin, practice=practice, enabled=True)
    settings.SMS_URL = ""

    response = admin_client.post(AUTO_INVITE, {"auto_invite": "on"})

    assert response.status_code == 400
    fieldset = parse(response).one("form", action=AUTO_INVITE).one("fieldset")
    assert fieldset["aria-describedby"].split() == ["auto-invite-error", "auto-invite-sms"]
    assert sms_note(parse(response)).startswith("Auto-invite is on but paused")
    assert enabled(practice)
