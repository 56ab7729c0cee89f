"""EHR Settings > Patient communications > Messaging (SPEC §1.3, §7.1): messaging on or off,
automatic filing into the chart, and who besides the providers may read and answer patient
messages."""

import pytest
from django.urls import reverse

from portico.audit.models import AuditEvent
from portico.practices.models import Membership, Role
from tests import factories
from tests.factories import sign_in

pytestmark = pytest.mark.django_db

PAGE = "/ehr/settings/patient-communications/messaging/"


def _switches(client, **values):
    return client.post(PAGE, {"form": "switches", **values})


def _helpers(client, *memberships):
    return client.post(PAGE, {"form": "helpers", "may_answer": [str(m.pk) for m in memberships]})


def test_the_tab_has_its_url_and_is_in_the_settings_nav(client, admin):
    assert reverse("practices:messaging") == PAGE
    sign_in(client, admin)
    response = client.get(reverse("practices:phr_invite"))
    assert f'href="{PAGE}"' in response.content.decode()
    html = client.get(PAGE).content.decode()
    assert f'<a href="{PAGE}" aria-current="page">Messaging</a>' in html


def test_only_administrators_see_or_change_messaging_settings(client, practice, staff, provider):
    for user in (staff, provider):
        sign_in(client, user)
        assert client.get(PAGE).status_code == 403
        assert _switches(client, enabled="on", auto_file="on").status_code == 403
    practice.refresh_from_db()
    assert not practice.messaging_enabled and not practice.messaging_auto_file


def test_another_practices_administrator_changes_only_their_own(
    client, practice, other_practice, outsider
):
    sign_in(client, outsider)
    _switches(client, enabled="on", auto_file="off")
    practice.refresh_from_db()
    other_practice.refresh_from_db()
    assert not practice.messaging_enabled and other_practice.messaging_enabled


def test_messaging_is_turned_on_and_off_and_settings_changes_are_audited(client, admin, practice):
    sign_in(client, admin)
    response = _switches(client, enabled="on", auto_file="off")
    assert response.status_code == 302 and response.url == PAGE
    practice.refresh_from_db()
    assert practice.messaging_enabled and not practice.messaging_auto_file
    event = AuditEvent.objects.get(action="settings.messaging_enabled")
    assert event.actor == admin and event.details == {"enabled": True}
    html = client.get(PAGE).content.decode()
    assert 'id="messaging-enabled-on" name="enabled" value="on" checked' in html

    response = _switches(client, enabled="off", auto_file="on")
    practice.refresh_from_db()
    assert not practice.messaging_enabled and practice.messaging_auto_file
    assert AuditEvent.objects.filter(action="settings.messaging_enabled").count() == 2
    assert AuditEvent.objects.filter(action="settings.messaging_auto_file").count() == 1
    assert "Patient messaging is off" in client.get(response.url).content.decode()


def test_saving_the_same_switches_changes_nothing(client, admin, practice):
    sign_in(client, admin)
    response = _switches(client, enabled="off", auto_file="off")
    assert "Nothing changed." in client.get(response.url).content.decode()
    assert not AuditEvent.objects.filter(action__startswith="settings.messaging").exists()


@pytest.mark.parametrize("values", [{"enabled": "maybe", "auto_file": "on"}, {"enabled": "on"}])
def test_a_switch_that_is_not_on_or_off_is_refused_next_to_it(client, admin, practice, values):
    sign_in(client, admin)
    response = _switches(client, **values)
    assert response.status_code == 400
    assert "Choose on or off." in response.content.decode()
    practice.refresh_from_db()
    assert not practice.messaging_enabled and not practice.messaging_auto_file


def test_providers_are_listed_as_always_allowed_and_others_get_a_checkbox(
    client, admin, staff, provider
):
    sign_in(client, admin)
    html = client.get(PAGE).content.decode()
    staff_member = Membership.objects.get(user=staff)
    provider_member = Membership.objects.get(user=provider)
    assert f'name="may_answer" value="{staff_member.pk}"' in html
    assert f'name="may_answer" value="{provider_member.pk}"' not in html
    always = html.split("Always allowed (providers):")[1].split("</ul>")[0]
    assert provider.display_name in always


def test_a_provider_without_a_messaging_credential_gets_a_checkbox(client, admin, practice):
    scribe = factories.make_staff(practice, role=Role.PROVIDER, credential="")
    sign_in(client, admin)
    membership = Membership.objects.get(user=scribe)
    assert f'value="{membership.pk}"' in client.get(PAGE).content.decode()


def test_ticking_a_member_lets_them_answer_messages_and_is_audited(client, admin, staff, practice):
    membership = Membership.objects.get(user=staff)
    sign_in(client, admin)
    response = _helpers(client, membership)
    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.may_answer_messages
    event = AuditEvent.objects.get(action="settings.messaging_helper")
    assert event.details == {"user": str(staff.public_id), "may_answer": True}
    # The ticked member now reaches the inbox; unticked again, they do not.
    sign_in(client, staff)
    assert client.get(reverse("messaging:inbox")).status_code == 200
    sign_in(client, admin)
    _helpers(client)
    membership.refresh_from_db()
    assert not membership.may_answer_messages
    sign_in(client, staff)
    assert client.get(reverse("messaging:inbox")).status_code == 403


def test_saving_helpers_keeps_the_providers_right(client, admin, provider):
    sign_in(client, admin)
    _helpers(client)
    assert client.get(PAGE).status_code == 200
    sign_in(client, provider)
    assert client.get(reverse("messaging:inbox")).status_code == 200


def test_a_member_of_another_practice_cannot_be_ticked(
    client, admin, staff, other_practice, outsider
):
    stranger = Membership.objects.get(user=outsider)
    mine = Membership.objects.get(user=staff)
    sign_in(client, admin)
    response = _helpers(client, mine, stranger)
    assert response.status_code == 400
    assert "The list of users changed; please try again." in response.content.decode()
    mine.refresh_from_db()
    stranger.refresh_from_db()
    assert not mine.may_answer_messages and not stranger.may_answer_messages
    assert not AuditEvent.objects.filter(action="settings.messaging_helper").exists()


def test_a_provider_cannot_be_ticked_through_a_forged_form(client, admin, provider):
    sign_in(client, admin)
    response = _helpers(client, Membership.objects.get(user=provider))
    assert response.status_code == 400


def test_settings_page_shows_no_health_information_and_writes_no_read(client, admin):
    sign_in(client, admin)
    before = AuditEvent.objects.count()
    assert client.get(PAGE).status_code == 200
    assert AuditEvent.objects.count() == before
