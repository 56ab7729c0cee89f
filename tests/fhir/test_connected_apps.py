"""The patient's Connected apps page (SPEC §11.1): which apps read which record, what they may
read, when they last read; "Disconnect" revokes their tokens at once."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
import time_machine
from django.test import Client, RequestFactory
from django.urls import reverse

from portico.audit.models import AuditEvent
from portico.fhir import services
from portico.fhir.auth import Caller, authenticate
from portico.fhir.models import AppConnection
from portico.portal.models import PortalAccess
from tests import factories
from tests.factories import sign_in
from tests.fhir.conftest import REDIRECT_URI, authorize_params, bearer, connect_app, refresh
from tests.pages.html import parse

pytestmark = pytest.mark.django_db

APPS = "/portal/apps/"


def caller(token: str):
    """What the FHIR server answers a call with this bearer token: a Caller, or the 401."""
    return authenticate(RequestFactory().get("/fhir/R4/Patient", **bearer(token)))


def disconnect_url(connection: AppConnection) -> str:
    return reverse("fhir_portal:disconnect", args=[connection.public_id])


def signed_in(account) -> Client:
    client = Client()
    sign_in(client, account)
    return client


def cards(client) -> list:
    page = parse(client.get(APPS))
    listed = page.find("ul", class_="record-list")
    return [] if listed is None else listed.find_all("li", class_="card")


def facts(card) -> dict[str, str]:
    """The card's facts, by their label."""
    terms = [dt_.text for dt_ in card.find_all("dt")]
    values = [dd.text for dd in card.find_all("dd")]
    return dict(zip(terms, values, strict=True))


# -- who may see and disconnect what ----------------------------------------------------------


def test_the_page_needs_a_signed_in_account(client):
    response = client.get(APPS)
    assert response.status_code == 302 and "sign-in" in response["Location"]


def test_another_accounts_connection_is_a_404_and_stays_connected(app, account, admin, practice):
    tokens = connect_app(app, account)
    connection = AppConnection.objects.get()
    stranger = signed_in(factories.enroll(admin, factories.make_patient(practice)))

    assert stranger.get(disconnect_url(connection)).status_code == 404
    assert stranger.post(disconnect_url(connection)).status_code == 404

    connection.refresh_from_db()
    assert connection.ended_at is None
    assert isinstance(caller(tokens["access_token"]), Caller)
    assert cards(stranger) == []
    assert not AuditEvent.objects.filter(action="fhir.app_disconnected").exists()


def test_the_service_refuses_another_accounts_connection(app, account, admin, practice):
    from django.http import Http404

    connect_app(app, account)
    connection = AppConnection.objects.get()
    stranger = factories.enroll(admin, factories.make_patient(practice))
    with pytest.raises(Http404):
        services.disconnect(stranger, connection)
    connection.refresh_from_db()
    assert connection.ended_at is None


# -- disconnecting ----------------------------------------------------------------------------


def test_disconnect_revokes_the_tokens_at_once(app, account):
    tokens = connect_app(app, account)
    connection = AppConnection.objects.get()
    assert isinstance(caller(tokens["access_token"]), Caller)
    client = signed_in(account)

    response = client.post(disconnect_url(connection), follow=True)

    assert response.redirect_chain == [(APPS, 302)]
    page = parse(response)
    assert "“Health Tracker” is disconnected." in page.one("div", class_="messages").text
    assert cards(client) == []
    # The app's next FHIR call, and its next refresh, are refused.
    refused = caller(tokens["access_token"])
    assert refused.status_code == 401
    assert refused["WWW-Authenticate"].startswith("Bearer")
    assert refresh(app, tokens["refresh_token"]).status_code == 400
    event = AuditEvent.objects.get(action="fhir.app_disconnected")
    assert event.actor == account and event.details["app"] == "Health Tracker"


def test_the_disconnect_button_asks_first_and_a_get_changes_nothing(app, account):
    tokens = connect_app(app, account)
    connection = AppConnection.objects.get()
    client = signed_in(account)

    (card,) = cards(client)
    link = card.find("a", class_="button")
    assert link.text == "Disconnect Health Tracker"
    assert link["href"] == disconnect_url(connection)

    page = parse(client.get(link["href"]))
    assert page.one("h1").text == "Disconnect Health Tracker?"
    form = page.one("main").one("form")
    assert form["method"] == "post" and form.find("input", name="csrfmiddlewaretoken")
    assert form.find("button", type="submit").text == "Disconnect"
    assert form.find("a").text == "Keep it connected"
    connection.refresh_from_db()
    assert connection.ended_at is None
    assert isinstance(caller(tokens["access_token"]), Caller)


def test_disconnecting_twice_is_a_404_the_second_time(app, account):
    connect_app(app, account)
    connection = AppConnection.objects.get()
    client = signed_in(account)
    assert client.post(disconnect_url(connection)).status_code == 302
    assert client.post(disconnect_url(connection)).status_code == 404
    assert AuditEvent.objects.filter(action="fhir.app_disconnected").count() == 1


def test_the_disconnect_form_needs_its_csrf_token(app, account):
    connect_app(app, account)
    connection = AppConnection.objects.get()
    client = Client(enforce_csrf_checks=True)
    sign_in(client, account)
    assert client.post(disconnect_url(connection)).status_code == 403
    connection.refresh_from_db()
    assert connection.ended_at is None


# -- what the page lists ----------------------------------------------------------------------


def test_the_page_lists_app_record_what_it_reads_and_last_read(app, account, practice):
    practice.time_zone = "Pacific/Honolulu"
    practice.save()
    honolulu = zoneinfo.ZoneInfo("Pacific/Honolulu")
    with time_machine.travel(dt.datetime(2030, 11, 2, 9, 15, tzinfo=honolulu), tick=False):
        connect_app(
            app,
            account,
            scope="launch/patient patient/AllergyIntolerance.rs patient/Observation.rs",
        )
    client = signed_in(account)

    (card,) = cards(client)
    assert card.one("h2").text == "Health Tracker"
    listed = facts(card)
    assert listed["Record it reads"] == "Your record at Riverside Clinic"
    reads = [li.text for li in card.find_all("li")]
    assert reads == [
        "Allergies",
        "Lab results, vital signs, screenings and assessments",
        "Know which record you picked",
    ]
    assert listed["Connected"] == "November 2, 2030, 9:15 AM"
    assert listed["Last read"] == "Never"
    assert card.find("time")["datetime"] == "2030-11-02T09:15:00-10:00"

    connection = AppConnection.objects.get()
    with time_machine.travel(dt.datetime(2030, 11, 3, 14, 5, tzinfo=honolulu), tick=False):
        services.app_read(connection, what="Observation search", count=3)
    (card,) = cards(client)
    assert facts(card)["Last read"] == "November 3, 2030, 2:05 PM"


def test_an_account_without_apps_reads_that_none_are_connected(account):
    client = signed_in(account)
    page = parse(client.get(APPS))
    assert page.one("h1").text == "Connected apps"
    assert "No apps are connected to your records." in page.one("main").text
    assert page.find("ul", class_="record-list") is None


def test_a_representatives_connections_are_listed_as_theirs(app, admin, patient, account):
    rep_account, rep = factories.enroll_representative(admin, patient)
    connect_app(app, rep_account, rep)
    connection = AppConnection.objects.get()
    assert connection.account == rep_account and connection.representative == rep

    (card,) = cards(signed_in(rep_account))
    assert facts(card)["Record it reads"] == (
        f"{patient.full_name}'s record at Riverside Clinic (you are their parent)"
    )
    # The patient's own page lists only the apps the patient connected.
    assert cards(signed_in(account)) == []
    assert signed_in(account).post(disconnect_url(connection)).status_code == 404


def test_each_record_listed_is_audited_as_a_read_by_its_holder(app, admin, patient, practice):
    rep_account = factories.enroll(admin, factories.make_patient(practice))
    _acc, rep = factories.enroll_representative(admin, patient, account=rep_account)
    connect_app(app, rep_account, PortalAccess.objects.get(account=rep_account))
    connect_app(app, rep_account, rep)
    before = AuditEvent.objects.count()

    assert len(cards(signed_in(rep_account))) == 2

    events = AuditEvent.objects.order_by("id")[before:]
    reads = [(e.action, e.patient, e.acting_as, e.details) for e in events]
    page = {"page": "connected apps"}
    assert ("phr.view", patient, "parent", page) in reads
    own = PortalAccess.objects.get(account=rep_account).patient
    assert ("phr.view", own, "", page) in reads
    assert len(reads) == 2


def test_an_app_whose_access_ended_shows_only_the_practice(
    app, admin, patient, account, other_practice
):
    from portico.portal import registration
    from portico.portal import services as portal

    tokens = connect_app(app, account)
    # The account keeps another record (at another practice); this one's access is revoked.
    elsewhere = factories.make_patient(other_practice)
    invitation = factories.invite(factories.make_admin(other_practice), elsewhere)
    registration.registration_link_account(account, invitation_id=str(invitation.public_id))
    portal.access_revoke(admin, patient=patient)
    account.refresh_from_db()  # the revoke ended its sessions: a new one signs in

    (card,) = cards(signed_in(account))
    assert facts(card)["Record it reads"] == "Riverside Clinic"
    assert "can no longer read the record" in card.text
    assert caller(tokens["access_token"]).status_code == 401


def test_the_portal_header_links_to_connected_apps(account):
    page = parse(signed_in(account).get(reverse("portal:home"), follow=True))
    link = page.one("header").find("a", text="Connected apps")
    assert link is not None and link["href"] == APPS


# -- the consent page ------------------------------------------------------------------------


def test_dont_allow_needs_no_record_choice(app, account):
    # No record chosen: refusing still goes back to the app, with access_denied.
    client = signed_in(account)
    params = authorize_params(app, challenge="x" * 43)
    assert client.get(reverse("oauth2_provider:authorize"), params).status_code == 200
    form = {k: v for k, v in params.items() if k != "aud"}
    response = client.post(reverse("oauth2_provider:authorize"), form)
    assert response.status_code == 302
    assert response["Location"].startswith(REDIRECT_URI)
    assert "error=access_denied" in response["Location"]
    assert not AppConnection.objects.exists()


def test_allow_without_a_record_says_which_to_choose(app, account):
    client = signed_in(account)
    params = authorize_params(app, challenge="x" * 43)
    form = {k: v for k, v in params.items() if k != "aud"}
    response = client.post(reverse("oauth2_provider:authorize"), {**form, "allow": "on"})
    assert response.status_code == 400
    page = parse(response)
    fieldset = page.one("fieldset")
    assert fieldset["aria-describedby"] == "record-error"
    assert page.one(id="record-error").text == "Choose the record the app may read."
    assert not AppConnection.objects.exists()


def test_the_page_does_not_grow_in_queries_with_its_apps(app, admin, patient, account, practice):
    from django.db import connection as db
    from django.test.utils import CaptureQueriesContext

    connect_app(app, account)
    client = signed_in(account)
    client.get(APPS)
    with CaptureQueriesContext(db) as one:
        client.get(APPS)
    for name in ("Sleep Log", "Step Counter"):
        other = services.register_app(
            None, name=name, redirect_uris=REDIRECT_URI, confidential=False
        ).application
        connect_app(other, account)
    with CaptureQueriesContext(db) as three:
        assert len(cards(client)) == 3
    assert len(three) == len(one)
