"""EHR Settings > "Patient communications" > "PHR invite": the auto-invite switch (SPEC §5.1)."""

import pytest
from django.urls import reverse

from portico.audit.models import AuditEvent
from portico.practices.models import Practice
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
