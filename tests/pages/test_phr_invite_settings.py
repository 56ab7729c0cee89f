"""EHR Settings > "Patient communications" > "PHR invite" (SPEC §1.3–1.4)."""

import pytest
from django.urls import reverse

from portico.practices.models import Membership, Role
from tests import factories
from tests.factories import sign_in
from tests.pages.conftest import action_url, chart_url
from tests.pages.html import messages, parse

pytestmark = pytest.mark.django_db

PHR_INVITE = reverse("practices:phr_invite")


def may_invite(user) -> bool:
    return Membership.objects.get(user=user).may_invite_patients


def ticked_ids(admin, *users) -> list[str]:
    return [str(Membership.objects.get(user=u).pk) for u in (admin, *users)]


# -- refusals first ------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["staff", "provider", "non_inviter"])
@pytest.mark.parametrize("method", ["get", "post"])
def test_non_administrators_get_403_on_the_settings_page(client, request, who, method, staff):
    user = request.getfixturevalue(who)
    sign_in(client, user)

    for url in (reverse("practices:settings"), PHR_INVITE):
        response = getattr(client, method)(url, {"may_invite": []} if method == "post" else None)
        assert response.status_code == 403
    assert may_invite(staff)


def test_non_administrators_see_no_ehr_settings_link(staff_client, patient):
    nav = parse(staff_client.get(reverse("charts:patient_list"))).one("nav", aria_label="Main")
    assert nav.find("a", text="EHR Settings") is None


@pytest.mark.parametrize("bad", ["abc", "999999", "", "1.0"])
def test_unknown_member_ids_are_refused_and_change_nothing(admin_client, admin, staff, bad):
    response = admin_client.post(PHR_INVITE, {"may_invite": [*ticked_ids(admin, staff), bad]})

    assert response.status_code == 400
    error = (
        parse(response)
        .one("fieldset", aria_describedby="may-invite-error")
        .one(id="may-invite-error")
    )
    assert error.text == "The list of users changed; please try again."
    assert may_invite(admin) and may_invite(staff)


def test_members_of_another_practice_cannot_be_changed_from_here(
    admin_client, admin, staff, outsider
):
    response = admin_client.post(PHR_INVITE, {"may_invite": ticked_ids(admin, staff)}, follow=True)
    assert response.status_code == 200
    outsider_member = Membership.objects.get(user=outsider)
    admin_client.post(PHR_INVITE, {"may_invite": [*ticked_ids(admin), str(outsider_member.pk)]})

    assert may_invite(outsider)
    assert may_invite(staff)


# -- the page ------------------------------------------------------------------------------


def test_settings_page_sits_under_patient_communications(admin_client, staff):
    page = parse(admin_client.get(PHR_INVITE))

    assert page.one("h1").text == "EHR Settings"
    nav = page.one("nav", class_="settings-nav")
    current = nav.one("a", aria_current="page")
    assert current.text == "PHR invite"
    assert "Patient communications" in [h.text for h in nav.find_all("h2")]
    assert page.one("nav", aria_label="Main").find("a", text="EHR Settings") is not None


def test_every_member_has_a_labelled_tick_box(admin_client, admin, staff, non_inviter):
    page = parse(admin_client.get(PHR_INVITE))
    boxes = {
        page.one("label", for_=box["id"]).text.split(" (")[0]: box.get("checked") is not None
        for box in page.find_all("input", type="checkbox", name="may_invite")
    }

    assert boxes == {"Ada Admin": True, "Stan Staff": True, "Nora Noinvite": False}


def test_unticked_user_loses_invite_actions_at_once(client, admin, staff, patient):
    sign_in(client, admin)
    client.post(PHR_INVITE, {"may_invite": ticked_ids(admin)})
    assert not may_invite(staff)

    # The staff member's next page shows no invite actions, and posting one is refused.
    sign_in(client, staff)
    page = parse(client.get(chart_url(patient, portal="open")))
    assert "Invite to patient portal" not in page.one("main").text
    response = client.post(
        action_url(patient, "invite"), {"email": patient.email, "confirmed": "yes"}
    )
    assert response.status_code == 403


def test_ticked_user_gets_the_right_back(client, admin, non_inviter, patient):
    sign_in(client, admin)
    client.post(PHR_INVITE, {"may_invite": ticked_ids(admin, non_inviter)})

    assert may_invite(non_inviter)
    sign_in(client, non_inviter)
    page = parse(client.get(chart_url(patient, portal="open")))
    assert page.one("dialog").find("button", text="Invite to patient portal") is not None


def test_saving_reports_whether_anything_changed(admin_client, admin, staff):
    same = admin_client.post(PHR_INVITE, {"may_invite": ticked_ids(admin, staff)}, follow=True)
    changed = admin_client.post(PHR_INVITE, {"may_invite": ticked_ids(admin)}, follow=True)

    assert messages(parse(same)) == ["Nothing changed."]
    assert messages(parse(changed)) == ["Saved."]


def test_admin_of_two_practices_changes_only_the_current_one(client, practice, other_practice):
    admin = factories.make_admin(practice, full_name="Two Hats")
    Membership.objects.create(user=admin, practice=other_practice, role=Role.ADMINISTRATOR)
    here = factories.make_staff(practice)
    elsewhere = factories.make_staff(other_practice)
    sign_in(client, admin)
    client.post(reverse("practices:switch_practice"), {"practice": str(practice.public_id)})

    own = Membership.objects.get(user=admin, practice=practice)
    response = client.post(PHR_INVITE, {"may_invite": [str(own.pk)]}, follow=True)

    assert messages(parse(response)) == ["Saved."]
    assert not Membership.objects.get(user=here).may_invite_patients
    assert Membership.objects.get(user=elsewhere).may_invite_patients
