"""EHR Settings > Patient communications > Appointment reminders (SPEC §1.3, §8.7): reminders on
or off for the practice, and a tick per provider; administrators only, audited, bad input
changes nothing."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from portico.audit.models import AuditEvent
from portico.practices.models import Membership, Role
from portico.practices.services import reminder_settings_set
from tests import factories
from tests.factories import sign_in
from tests.pages.html import parse

pytestmark = pytest.mark.django_db

PAGE = "/ehr/settings/patient-communications/appointment-reminders/"


def member(user, practice) -> Membership:
    return Membership.objects.get(user=user, practice=practice)


@pytest.fixture
def second_provider(practice):
    return factories.make_staff(
        practice, role=Role.PROVIDER, credential="NP", full_name="Nina Nurse-Practitioner"
    )


def save(client, enabled="on", *senders):
    return client.post(PAGE, {"enabled": enabled, "sends_reminders": [str(m.pk) for m in senders]})


def test_the_tab_follows_messaging_in_patient_communications_with_its_exact_labels(
    client, admin, practice, provider, staff
):
    assert reverse("practices:reminders") == PAGE
    sign_in(client, admin)

    page = parse(client.get(PAGE))
    nav = page.one("nav", class_="settings-nav")
    tabs = [a.text for a in nav.find_all("ul")[0].find_all("a")]
    assert tabs[tabs.index("Messaging") + 1] == "Appointment reminders"
    assert nav.one("a", text="Appointment reminders")["aria-current"] == "page"
    legends = [legend.text for legend in page.find_all("legend")]
    assert "Enable appointment reminders for your practice" in legends
    assert page.one("input", id="reminders-enabled-off").get("checked") is not None
    assert page.one("label", for_="reminders-enabled-on").text == "On"
    assert page.one("label", for_="reminders-enabled-off").text == "Off"
    # A tick per provider, ticked by default; staff and administrators have none.
    ticks = page.find_all("input", name="sends_reminders")
    assert [t["value"] for t in ticks] == [str(member(provider, practice).pk)]
    assert ticks[0].get("checked") is not None
    assert "Dr. Paula Provider" in page.one("label", for_=ticks[0]["id"]).text


def test_an_administrator_turns_reminders_on_for_ticked_providers_and_it_is_audited(
    client, admin, practice, provider, second_provider
):
    sign_in(client, admin)

    response = save(client, "on", member(provider, practice))

    assert response.status_code == 302 and response.url == PAGE
    practice.refresh_from_db()
    assert practice.reminders_enabled
    assert member(provider, practice).sends_reminders
    assert not member(second_provider, practice).sends_reminders
    enabled = AuditEvent.objects.get(action="settings.reminders_enabled")
    assert enabled.actor == admin and enabled.details == {"enabled": True}
    (unticked,) = AuditEvent.objects.filter(action="settings.reminder_sender")
    assert unticked.details == {
        "user": str(second_provider.public_id),
        "sends_reminders": False,
    }
    assert "Saved." in client.get(PAGE).content.decode()

    response = save(client, "off", member(provider, practice), member(second_provider, practice))
    practice.refresh_from_db()
    assert not practice.reminders_enabled and member(second_provider, practice).sends_reminders
    assert "Appointment reminders are off" in client.get(response.url).content.decode()


def test_saving_the_same_settings_changes_nothing(client, admin, practice, provider):
    sign_in(client, admin)

    response = save(client, "off", member(provider, practice))

    assert "Nothing changed." in client.get(response.url).content.decode()
    assert not AuditEvent.objects.filter(action__startswith="settings.reminder").exists()


def test_only_administrators_see_or_change_reminder_settings(client, practice, staff, provider):
    for user in (staff, provider):
        sign_in(client, user)
        assert client.get(PAGE).status_code == 403
        assert save(client, "on").status_code == 403
    practice.refresh_from_db()
    assert not practice.reminders_enabled
    assert member(provider, practice).sends_reminders
    with pytest.raises(PermissionDenied):
        reminder_settings_set(staff, practice=practice, enabled=True, sender_ids=set())


def test_another_practices_administrator_cannot_tick_this_practices_providers(
    client, practice, provider, outsider, other_practice
):
    sign_in(client, outsider)

    response = save(client, "on", member(provider, practice))

    assert response.status_code == 400
    practice.refresh_from_db()
    other_practice.refresh_from_db()
    assert not practice.reminders_enabled and not other_practice.reminders_enabled
    assert member(provider, practice).sends_reminders


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"enabled": "maybe"}, "Choose on or off."),
        ({"enabled": "on", "sends_reminders": ["999999"]}, "The list of providers changed"),
        ({"enabled": "on", "sends_reminders": ["not-a-number"]}, "The list of providers changed"),
    ],
)
def test_bad_input_gets_a_clear_message_and_changes_nothing(
    client, admin, practice, provider, values, message
):
    sign_in(client, admin)
    values.setdefault("sends_reminders", [])

    response = client.post(PAGE, values)

    assert response.status_code == 400
    assert message in parse(response).one(role="alert").text
    practice.refresh_from_db()
    assert not practice.reminders_enabled
    assert member(provider, practice).sends_reminders
    assert not AuditEvent.objects.filter(action__startswith="settings.reminder").exists()


@pytest.mark.parametrize("bad", [{"enabled": "yes"}, {"sender_ids": {"staff"}}])
def test_the_service_refuses_a_non_provider_or_a_non_boolean_and_changes_nothing(
    admin, practice, provider, staff, bad
):
    sender_ids = {member(staff, practice).pk} if bad.get("sender_ids") else set()
    with pytest.raises(ValidationError):
        reminder_settings_set(
            admin, practice=practice, enabled=bad.get("enabled", True), sender_ids=sender_ids
        )

    practice.refresh_from_db()
    assert not practice.reminders_enabled
    assert member(provider, practice).sends_reminders
