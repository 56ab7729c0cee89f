"""The chart page: header button, Actions menu and the "Patient portal access" window
(SPEC §2.3, §3.1, §3.2, §3.9)."""

import datetime as dt

import pytest

from portico.audit.models import AuditEvent
from portico.portal import services as portal
from tests import factories
from tests.factories import sign_in
from tests.pages.conftest import chart_url
from tests.pages.html import parse

pytestmark = pytest.mark.django_db

INVITE = "Invite to patient portal"
ALL_ACTIONS = ("Invite to patient portal", "Resend invite", "Cancel invite", "Revoke access")


def header_button(page):
    return page.one("button", title="Patient portal status")


def actions_menu(page):
    summary = page.one("summary", text="Actions")
    return summary.closest("details")


def window(page):
    return page.one("dialog", id="portal-window")


def window_buttons(page) -> list[str]:
    """The buttons of the patient's own access (the representatives' section has its own)."""
    section = window(page).find("section", class_="representatives")
    theirs = {id(el) for el in section.iter()} if section is not None else set()
    return [b.text for b in window(page).find_all("button") if id(b) not in theirs]


def summary_cells(page) -> dict[str, str]:
    table = window(page).one("table", class_="portal-summary")
    heads = [th.text for th in table.find_all("th")]
    cells = [td.text for td in table.find("tbody").find_all("td")]
    return dict(zip(heads, cells, strict=True))


def make_state(state, *, admin, patient):
    """Bring the chart's portal access into one of the SPEC §3.1 states."""
    if state == "not_invited":
        return
    if state == "expired":
        invitation = factories.invite(admin, patient)
        invitation.expires_at = invitation.created_at - dt.timedelta(seconds=1)
        invitation.save(update_fields=["expires_at"])
        return
    if state in ("invited", "cancelled"):
        factories.invite(admin, patient)
        if state == "cancelled":
            portal.invitation_cancel(admin, patient=patient)
        return
    factories.enroll(admin, patient)
    if state == "revoked":
        portal.access_revoke(admin, patient=patient)


STATES = [
    # state, header button, actions offered in the window
    ("not_invited", "Invite to patient portal", ["Invite to patient portal"]),
    ("invited", "Invite pending", ["Resend invite", "Cancel invite", "Reset portal account"]),
    ("active", "Enrolled", ["Revoke access", "Reset portal account"]),
    ("cancelled", "Invite cancelled", ["Invite to patient portal"]),
    ("expired", "Invite expired", ["Invite to patient portal"]),
    ("revoked", "Access revoked", ["Invite to patient portal"]),
]


# -- who may see what ----------------------------------------------------------------------


def test_member_without_invite_right_sees_no_invite_actions(client, non_inviter, admin, patient):
    sign_in(client, non_inviter)
    page = parse(client.get(chart_url(patient, portal="open")))

    assert INVITE not in actions_menu(page).text
    assert header_button(page).text == "Not invited"
    for label in ALL_ACTIONS:
        assert label not in window(page).text
    assert window(page).find("form", method="post") is None
    assert "You do not have permission to invite patients" in window(page).text


@pytest.mark.parametrize(("state", "_button", "_actions"), STATES)
def test_member_without_invite_right_sees_status_but_no_actions_in_any_state(
    client, non_inviter, admin, patient, state, _button, _actions
):
    make_state(state, admin=admin, patient=patient)
    sign_in(client, non_inviter)
    page = parse(client.get(chart_url(patient, portal="open")))

    assert window_buttons(page) == []
    assert INVITE not in actions_menu(page).text


# -- header and menu -----------------------------------------------------------------------


@pytest.mark.parametrize(("state", "button", "_actions"), STATES)
def test_header_button_invites_or_shows_the_portal_state(
    staff_client, admin, patient, state, button, _actions
):
    make_state(state, admin=admin, patient=patient)
    page = parse(staff_client.get(chart_url(patient)))

    assert header_button(page).text == button


def test_actions_menu_contains_invite_to_patient_portal(staff_client, patient):
    page = parse(staff_client.get(chart_url(patient)))

    item = actions_menu(page).one("button", text=INVITE)
    assert item.closest("form")["method"] == "get"
    assert item["name"] == "portal" and item["value"] == "open"


def test_chart_without_portal_parameter_keeps_the_window_closed(staff_client, patient):
    page = parse(staff_client.get(chart_url(patient)))

    assert window(page).get("open") is None


def test_chart_names_the_preferred_language_not_its_code(staff_client, practice):
    patient = factories.make_patient(practice, preferred_language="es")
    page = parse(staff_client.get(chart_url(patient)))

    assert page.one("p", class_="chart-facts").find_all("span")[-1].text == "Spanish"
    facts = page.one("dl", class_="facts")
    names = [term.text for term in facts.find_all("dt")]
    values = [value.text for value in facts.find_all("dd")]
    assert dict(zip(names, values, strict=True))["Preferred language"] == "Spanish"


# -- the window ----------------------------------------------------------------------------


def test_window_opens_with_email_and_phone_prefilled_from_demographics(staff_client, patient):
    page = parse(staff_client.get(chart_url(patient, portal="open")))
    dialog = window(page)

    assert dialog.get("open") is not None
    assert dialog.one("h2").text == "Patient portal access"
    email = dialog.one("input", name="email")
    phone = dialog.one("input", name="phone")
    assert email["value"] == patient.email
    assert email["type"] == "email"
    assert phone["value"] == "(202) 555-0123"
    assert phone["type"] == "tel"
    # Editable: plain inputs inside the invite form, not read-only text.
    assert email.get("readonly") is None and phone.get("readonly") is None
    assert email.closest("form")["method"] == "post"


@pytest.mark.parametrize(("state", "_button", "actions"), STATES)
def test_window_offers_only_the_actions_that_fit_the_state(
    staff_client, admin, patient, state, _button, actions
):
    make_state(state, admin=admin, patient=patient)
    page = parse(staff_client.get(chart_url(patient, portal="open")))

    assert window_buttons(page) == actions


def test_window_shows_status_column_and_live_access_code(staff_client, admin, patient):
    invitation = factories.invite(admin, patient)
    page = parse(staff_client.get(chart_url(patient, portal="open")))

    cells = summary_cells(page)
    assert cells["Patient portal status"] == "Invite pending"
    assert invitation.access_code_display in cells["Access code"]


def test_access_code_column_shows_only_the_newest_code(staff_client, admin, patient):
    old = factories.invite(admin, patient)
    new = portal.invitation_resend(admin, patient=patient)
    page = parse(staff_client.get(chart_url(patient, portal="open")))

    assert new.access_code_display in summary_cells(page)["Access code"]
    assert old.access_code_display not in page.one("main").text


@pytest.mark.parametrize("state", ["not_invited", "active", "cancelled", "expired", "revoked"])
def test_access_code_column_is_empty_without_a_pending_invite(staff_client, admin, patient, state):
    make_state(state, admin=admin, patient=patient)
    page = parse(staff_client.get(chart_url(patient, portal="open")))

    assert summary_cells(page)["Access code"] == "—"


def test_window_timeline_shows_who_did_what_and_when(staff_client, admin, patient, practice):
    factories.invite(admin, patient)
    portal.invitation_cancel(admin, patient=patient)
    page = parse(staff_client.get(chart_url(patient, portal="open")))

    items = window(page).one("ol", class_="timeline").find_all("li")
    # Staff actions (the enrollment email's own entries name no person).
    items = [li for li in items if li.find(class_="timeline-who")]
    assert [li.one(class_="timeline-what").text for li in items] == [
        "Invite cancelled",
        "Invited to the patient portal",
    ]
    assert all(li.one(class_="timeline-who").text == "by Ada Admin" for li in items)
    assert all(li.one("time").get("datetime") for li in items)


def test_timeline_shows_times_in_the_practice_time_zone(staff_client, admin, patient, practice):
    practice.time_zone = "America/Chicago"
    practice.save()
    factories.invite(admin, patient)
    event = AuditEvent.objects.get(action="portal.invite")
    page = parse(staff_client.get(chart_url(patient, portal="open")))

    shown = [dt.datetime.fromisoformat(t["datetime"]) for t in window(page).find_all("time")]
    assert event.created_at.replace(microsecond=0) in shown  # to the second, as HTML allows
    assert {t.utcoffset() for t in shown} <= {dt.timedelta(hours=-5), dt.timedelta(hours=-6)}


# -- audit ---------------------------------------------------------------------------------


@pytest.mark.parametrize("query", [{}, {"portal": "open"}])
def test_every_chart_view_is_audited(staff_client, staff, patient, query):
    staff_client.get(chart_url(patient, **query))
    staff_client.get(chart_url(patient, **query))

    views = AuditEvent.objects.filter(action="chart.view", patient=patient, actor=staff)
    assert views.count() == 2


def test_opening_the_demographics_form_is_audited(staff_client, staff, patient):
    from django.urls import reverse

    staff_client.get(reverse("charts:patient_edit", args=[patient.public_id]))

    assert AuditEvent.objects.filter(action="chart.view", patient=patient, actor=staff).exists()


@pytest.mark.parametrize(("state", "_button", "_actions"), STATES)
def test_actions_menu_opens_the_window_in_every_state(
    staff_client, admin, patient, state, _button, _actions
):
    make_state(state, admin=admin, patient=patient)
    page = parse(staff_client.get(chart_url(patient)))

    assert actions_menu(page).find("button", text=INVITE) is not None
