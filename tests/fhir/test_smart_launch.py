"""SMART App Launch: the authorization server's rules (SPEC §11.1)."""

import datetime as dt

import time_machine
from django.conf import settings
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from portico.audit.models import AuditEvent
from portico.fhir import services
from portico.fhir.auth import authenticate
from portico.fhir.models import AppConnection
from portico.portal import registration
from portico.portal import services as portal_services
from portico.portal.models import PortalAccess
from tests import factories
from tests.factories import sign_in
from tests.fhir.conftest import (
    authorize_params,
    bearer,
    connect_app,
    consent,
    exchange,
    id_token_claims,
    pkce_pair,
    refresh,
)


def _caller(token):

    return authenticate(RequestFactory().get("/fhir/R4/Patient", **bearer(token)))


def test_the_launch_gives_a_token_naming_the_picked_patient(app, account, patient):
    tokens = connect_app(app, account)
    assert tokens["patient"] == str(patient.public_id)
    assert tokens["token_type"] == "Bearer"
    assert "refresh_token" in tokens and "id_token" in tokens
    caller = _caller(tokens["access_token"])
    assert caller.patient == patient
    assert AppConnection.objects.get().account == account


def test_tokens_are_stored_hashed(app, account):
    from oauth2_provider.models import AccessToken, RefreshToken

    tokens = connect_app(app, account)
    stored = AccessToken.objects.get()
    assert stored.token == "" and tokens["access_token"] not in stored.token_checksum
    assert RefreshToken.objects.get().token == ""


def test_pkce_plain_is_refused(app, account):
    client = Client()
    sign_in(client, account)
    verifier = "a" * 50
    access = PortalAccess.objects.get(account=account)

    page = client.get(
        reverse("oauth2_provider:authorize"),
        authorize_params(app, challenge=verifier, method="plain"),
    )
    # Refused before any consent: back to the app with an error, no code.
    assert page.status_code == 302
    assert "error=invalid_request" in page["Location"] and "code=" not in page["Location"]
    assert access is not None


def test_a_token_request_without_the_verifier_is_refused(app, account):
    client = Client()
    sign_in(client, account)
    _verifier, challenge = pkce_pair()
    answer = consent(client, app, PortalAccess.objects.get(account=account), challenge=challenge)
    response = exchange(app, answer["code"], "wrong" * 10)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_refresh_gives_a_new_token_and_disconnect_ends_both(app, account):

    tokens = connect_app(app, account)
    renewed = refresh(app, tokens["refresh_token"])
    assert renewed.status_code == 200, renewed.content
    new = renewed.json()
    assert new["patient"] == tokens["patient"]
    assert not isinstance(_caller(new["access_token"]), AppConnection)
    services.disconnect(account, AppConnection.objects.get())
    assert _caller(new["access_token"]).status_code == 401
    assert refresh(app, new["refresh_token"]).status_code == 400


# -- requests the server refuses -------------------------------------------------------------


def _signed_in(account):
    client = Client()
    sign_in(client, account)
    return client


def test_a_redirect_uri_the_app_did_not_register_is_refused_without_going_there(app, account):

    _verifier, challenge = pkce_pair()
    page = _signed_in(account).get(
        reverse("oauth2_provider:authorize"),
        authorize_params(app, challenge=challenge, redirect_uri="https://evil.example/cb"),
    )
    assert page.status_code == 400
    assert "This app cannot be connected" in page.content.decode()
    assert not AppConnection.objects.exists()


def test_an_unknown_app_is_refused(account):
    page = _signed_in(account).get(
        reverse("oauth2_provider:authorize"),
        {"response_type": "code", "client_id": "nobody", "redirect_uri": "https://a.example/"},
    )
    assert page.status_code == 400
    assert "This app cannot be connected" in page.content.decode()


def test_an_app_naming_another_fhir_server_is_refused(app, account):

    _verifier, challenge = pkce_pair()
    page = _signed_in(account).get(
        reverse("oauth2_provider:authorize"),
        authorize_params(app, challenge=challenge, aud="https://other.example/fhir"),
    )
    assert page.status_code == 400
    assert "another server" in page.content.decode()


def test_a_launch_without_pkce_is_refused(app, account):

    page = _signed_in(account).get(
        reverse("oauth2_provider:authorize"), authorize_params(app, challenge=None, method=None)
    )
    assert page.status_code == 302
    assert "error=invalid_request" in page["Location"] and "code=" not in page["Location"]


def test_write_and_user_scopes_are_refused(app, account):

    _verifier, challenge = pkce_pair()
    for scope in ("patient/*.cruds", "user/*.read", "patient/*.write"):
        page = _signed_in(account).get(
            reverse("oauth2_provider:authorize"),
            authorize_params(app, challenge=challenge, scope=f"launch/patient {scope}"),
        )
        assert page.status_code == 302, scope
        assert "error=invalid_scope" in page["Location"], scope


def test_an_account_without_records_cannot_connect_an_app(app, staff):

    _verifier, challenge = pkce_pair()
    page = _signed_in(staff).get(
        reverse("oauth2_provider:authorize"), authorize_params(app, challenge=challenge)
    )
    assert page.status_code == 400
    assert "no record an app could read" in page.content.decode()


def test_the_sign_in_comes_first(app):

    _verifier, challenge = pkce_pair()
    page = Client().get(
        reverse("oauth2_provider:authorize"), authorize_params(app, challenge=challenge)
    )
    assert page.status_code == 302
    assert page["Location"].startswith(reverse("accounts:sign_in"))


# -- consent ---------------------------------------------------------------------------------


def test_the_consent_page_names_the_app_and_what_it_will_read(app, account):

    _verifier, challenge = pkce_pair()
    page = _signed_in(account).get(
        reverse("oauth2_provider:authorize"),
        authorize_params(app, challenge=challenge, scope="launch/patient patient/Observation.rs"),
    )
    text = page.content.decode()
    assert "Connect Health Tracker to your health record?" in text
    assert "Lab results, vital signs, screenings and assessments" in text
    assert "Allergies" not in text


def test_not_allowing_sends_the_app_away_without_a_code(app, account):
    _verifier, challenge = pkce_pair()
    answer = consent(
        _signed_in(account),
        app,
        PortalAccess.objects.get(account=account),
        challenge=challenge,
        allow=False,
    )
    assert answer["error"] == "access_denied" and "code" not in answer
    assert not AppConnection.objects.exists()


def test_a_record_that_is_not_the_accounts_is_refused(app, account, practice, admin):

    other_patient = factories.make_patient(practice)
    factories.enroll(admin, other_patient)
    other_access = PortalAccess.objects.get(patient=other_patient)
    client = _signed_in(account)
    _verifier, challenge = pkce_pair()
    response = client.post(
        reverse("oauth2_provider:authorize"),
        {
            "client_id": app.client_id,
            "redirect_uri": "https://app.example/callback",
            "response_type": "code",
            "scope": "launch/patient patient/*.rs",
            "state": "s",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "record": str(other_access.public_id),
            "allow": "on",
        },
    )
    assert response.status_code == 400
    assert "Choose one of your records." in response.content.decode()
    assert not AppConnection.objects.exists()


def test_a_representative_connects_the_record_they_represent(app, admin, practice):

    child = factories.make_patient(practice, legal_first_name="Sam")
    account, representative = factories.enroll_representative(admin, child)
    tokens = connect_app(app, account, access=representative)
    assert tokens["patient"] == str(child.public_id)
    assert _caller(tokens["access_token"]).access == representative
    # No fhirUser for a representative: they are not the patient.
    assert "fhirUser" not in id_token_claims(tokens["id_token"])


def test_the_id_token_names_the_patient_as_fhir_user(app, account, patient):

    claims = id_token_claims(connect_app(app, account)["id_token"])
    assert claims["fhirUser"] == f"{settings.PORTICO_FHIR_BASE_URL}/Patient/{patient.public_id}"
    assert claims["sub"] == str(account.public_id)
    assert claims["aud"] == app.client_id


def test_connecting_again_replaces_the_earlier_connection(app, account):
    first = connect_app(app, account)
    second = connect_app(app, account)
    assert _caller(first["access_token"]).status_code == 401
    assert refresh(app, first["refresh_token"]).status_code == 400
    assert _caller(second["access_token"]).connection.ended_at is None
    assert AppConnection.objects.filter(ended_at__isnull=True).count() == 1


def test_connecting_and_disconnecting_are_audited_with_the_app(app, account, patient):

    connect_app(app, account)
    services.disconnect(account, AppConnection.objects.get())
    events = AuditEvent.objects.filter(patient=patient, action__startswith="fhir.app_")
    assert {(e.action, e.details["app"]) for e in events} == {
        ("fhir.app_connected", "Health Tracker"),
        ("fhir.app_disconnected", "Health Tracker"),
    }


# -- scopes ----------------------------------------------------------------------------------


def test_the_token_holds_only_the_scopes_asked_for(app, account):
    tokens = connect_app(app, account, scope="launch/patient patient/Observation.rs")
    assert set(tokens["scope"].split()) == {"launch/patient", "patient/Observation.rs"}
    assert "refresh_token" not in tokens  # no offline_access asked for
    assert "id_token" not in tokens  # no openid


def test_a_refresh_may_narrow_the_scopes_never_widen_them(app, account):
    tokens = connect_app(app, account, scope="launch/patient offline_access patient/Observation.rs")
    wider = refresh(app, tokens["refresh_token"], scope="launch/patient patient/*.rs")
    assert wider.status_code == 400 and wider.json()["error"] == "invalid_scope"
    narrower = refresh(app, tokens["refresh_token"], scope="patient/Observation.rs")
    assert narrower.status_code == 200, narrower.content
    assert narrower.json()["scope"] == "patient/Observation.rs"
    assert _caller(narrower.json()["access_token"]).scopes == ("patient/Observation.rs",)


# -- tokens ending ---------------------------------------------------------------------------


def test_an_expired_access_token_is_refused(app, account):

    tokens = connect_app(app, account)
    with time_machine.travel(timezone.now() + dt.timedelta(hours=1, seconds=1)):
        assert _caller(tokens["access_token"]).status_code == 401
        # The refresh token still gives a new one.
        assert refresh(app, tokens["refresh_token"]).status_code == 200


def test_a_revoked_token_is_refused(app, account):
    tokens = connect_app(app, account)
    response = Client().post(
        reverse("oauth2_provider:revoke-token"),
        {"token": tokens["access_token"], "client_id": app.client_id},
    )
    assert response.status_code == 200
    assert _caller(tokens["access_token"]).status_code == 401


def test_a_refresh_token_used_twice_ends_the_whole_family(app, account):

    tokens = connect_app(app, account)
    renewed = refresh(app, tokens["refresh_token"]).json()
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=5)):
        # A replay of the used refresh token (stolen?) revokes every token of its family.
        assert refresh(app, tokens["refresh_token"]).status_code == 400
        assert refresh(app, renewed["refresh_token"]).status_code == 400


def test_a_code_works_once(app, account):
    client = _signed_in(account)
    verifier, challenge = pkce_pair()
    answer = consent(client, app, PortalAccess.objects.get(account=account), challenge=challenge)
    assert exchange(app, answer["code"], verifier).status_code == 200
    again = exchange(app, answer["code"], verifier)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_revoking_portal_access_ends_every_apps_access_on_the_next_request(
    app, account, admin, patient
):

    tokens = connect_app(app, account)
    portal_services.access_revoke(admin, patient=patient)
    assert _caller(tokens["access_token"]).status_code == 401
    assert refresh(app, tokens["refresh_token"]).status_code in (200, 400)
    # Invited and registered again later: the old connection stays ended.
    invitation = factories.invite(admin, patient)

    registration.registration_link_account(account, invitation_id=str(invitation.public_id))
    assert _caller(tokens["access_token"]).status_code == 401


def test_a_representatives_ended_access_ends_their_apps(app, admin, practice):

    child = factories.make_patient(practice, legal_first_name="Sam")
    account, representative = factories.enroll_representative(admin, child)
    tokens = connect_app(app, account, access=representative)
    portal_services.representative_revoke(admin, representative=representative)
    assert _caller(tokens["access_token"]).status_code == 401


def test_a_confidential_app_must_authenticate_at_the_token_endpoint(account):

    registered = services.register_app(
        None,
        name="Clinic Companion",
        redirect_uris="https://app.example/callback",
        confidential=True,
    )
    app = registered.application
    client = _signed_in(account)
    verifier, challenge = pkce_pair()
    answer = consent(client, app, PortalAccess.objects.get(account=account), challenge=challenge)
    assert exchange(app, answer["code"], verifier).status_code == 401
    with_secret = Client().post(
        reverse("oauth2_provider:token"),
        {
            "grant_type": "authorization_code",
            "code": answer["code"],
            "redirect_uri": "https://app.example/callback",
            "client_id": app.client_id,
            "client_secret": registered.client_secret,
            "code_verifier": verifier,
        },
    )
    assert with_secret.status_code == 200, with_secret.content
    app.refresh_from_db()
    assert registered.client_secret not in app.client_secret  # stored hashed


# -- discovery and CORS ----------------------------------------------------------------------


def test_smart_configuration_names_the_endpoints_and_s256(client):

    for url in ("/.well-known/smart-configuration", "/fhir/R4/.well-known/smart-configuration"):
        data = client.get(url).json()
        assert data["authorization_endpoint"] == f"{settings.PORTICO_BASE_URL}/o/authorize/"
        assert data["token_endpoint"] == f"{settings.PORTICO_BASE_URL}/o/token/"
        assert data["code_challenge_methods_supported"] == ["S256"]
        assert "launch-standalone" in data["capabilities"]


def test_cors_answers_on_the_token_endpoint_and_not_on_portal_pages(client):
    origin = {"HTTP_ORIGIN": "https://app.example"}
    token = client.options(
        reverse("oauth2_provider:token"), HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST", **origin
    )
    assert token["Access-Control-Allow-Origin"] == "*"
    for url in (reverse("oauth2_provider:authorize"), reverse("accounts:sign_in"), "/api/v1/"):
        assert "Access-Control-Allow-Origin" not in client.get(url, **origin), url


def test_the_periodic_job_deletes_expired_tokens_and_keeps_live_ones(app, account):
    from oauth2_provider.models import AccessToken

    from portico.periodic.jobs import JOBS

    expired = connect_app(app, account, scope="launch/patient patient/*.rs")
    AccessToken.objects.update(expires=timezone.now() - dt.timedelta(seconds=1))
    other_app = services.register_app(
        None, name="Step Counter", redirect_uris="https://app.example/callback", confidential=False
    ).application
    live = connect_app(other_app, account)
    job = next(j for j in JOBS if j.run is services.tokens_clear_expired)
    assert job.run() >= 1
    assert _caller(expired["access_token"]).status_code == 401
    assert _caller(live["access_token"]).patient is not None
    assert job.run() == 0


def test_an_app_cannot_skip_the_consent_page(app, account):
    connect_app(app, account)
    _verifier, challenge = pkce_pair()
    page = _signed_in(account).get(
        reverse("oauth2_provider:authorize"),
        authorize_params(app, challenge=challenge, approval_prompt="auto"),
    )
    assert page.status_code == 200
    assert "Connect Health Tracker to your health record?" in page.content.decode()


def test_http_redirect_uris_are_refused_unless_on_a_loopback_address(db):
    import pytest

    with pytest.raises(services.AppInputError) as refused:
        services.register_app(
            None, name="Plain", redirect_uris="http://app.example/cb", confidential=False
        )
    assert "must use https" in refused.value.errors["redirect_uris"][0]
    native = services.register_app(
        None, name="Desktop", redirect_uris="http://127.0.0.1/callback", confidential=False
    )
    assert native.application.redirect_uris == "http://127.0.0.1/callback"
