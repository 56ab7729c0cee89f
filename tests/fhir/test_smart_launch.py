"""SMART App Launch: the authorization server's rules (SPEC §11.1)."""

from django.test import Client
from django.urls import reverse

from portico.fhir.auth import authenticate
from portico.fhir.models import AppConnection
from portico.portal.models import PortalAccess
from tests.factories import sign_in
from tests.fhir.conftest import (
    bearer,
    connect_app,
    consent,
    exchange,
    pkce_pair,
    refresh,
)


def _caller(token):
    from django.test import RequestFactory

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
    from tests.fhir.conftest import authorize_params

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
    from portico.fhir import services

    tokens = connect_app(app, account)
    renewed = refresh(app, tokens["refresh_token"])
    assert renewed.status_code == 200, renewed.content
    new = renewed.json()
    assert new["patient"] == tokens["patient"]
    assert not isinstance(_caller(new["access_token"]), AppConnection)
    services.disconnect(account, AppConnection.objects.get())
    assert _caller(new["access_token"]).status_code == 401
    assert refresh(app, new["refresh_token"]).status_code == 400
