"""Apps, the SMART launch and bearer calls for the FHIR tests."""

from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.urls import reverse

from portico.fhir import services
from portico.portal.models import PortalAccess
from tests import factories
from tests.factories import sign_in

REDIRECT_URI = "https://app.example/callback"
ALL_SCOPES = "openid fhirUser launch/patient offline_access patient/*.rs"


@pytest.fixture
def app(db):
    """A public patient app registered by the operator."""
    return services.register_app(
        None, name="Health Tracker", redirect_uris=REDIRECT_URI, confidential=False
    ).application


@pytest.fixture
def account(admin, patient):
    """The patient, registered with a new account."""
    return factories.enroll(admin, patient)


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.decode().rstrip("=")


def authorize_params(app, *, scope=ALL_SCOPES, challenge="", method="S256", **extra) -> dict:
    from django.conf import settings

    params = {
        "response_type": "code",
        "client_id": app.client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": scope,
        "state": "st4te",
        "aud": settings.PORTICO_FHIR_BASE_URL,
        "code_challenge": challenge,
        "code_challenge_method": method,
    }
    params.update(extra)
    return {k: v for k, v in params.items() if v is not None}


def consent(client, app, access, *, scope=ALL_SCOPES, challenge="", allow=True):
    """Post the consent page as the signed-in patient; the redirect's query."""
    params = authorize_params(app, scope=scope, challenge=challenge)
    page = client.get(reverse("oauth2_provider:authorize"), params)
    assert page.status_code == 200, page.content
    form = {
        "client_id": app.client_id,
        "redirect_uri": REDIRECT_URI,
        "response_type": "code",
        "scope": scope,
        "state": "st4te",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "record": str(access.public_id),
    }
    if allow:
        form["allow"] = "on"
    response = client.post(reverse("oauth2_provider:authorize"), form)
    assert response.status_code == 302, response.content
    location = response["Location"]
    assert location.startswith(REDIRECT_URI), location
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def exchange(app, code, verifier, *, redirect_uri=REDIRECT_URI):
    return Client().post(
        reverse("oauth2_provider:token"),
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "client_id": app.client_id,
            "code_verifier": verifier,
        },
    )


def refresh(app, refresh_token, **extra):
    return Client().post(
        reverse("oauth2_provider:token"),
        {
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": app.client_id,
            **extra,
        },
    )


def connect_app(app, account, access=None, *, scope=ALL_SCOPES) -> dict:
    """The whole launch: sign in, consent, exchange the code; the token response."""
    client = Client()
    sign_in(client, account)
    if access is None:
        access = PortalAccess.objects.get(account=account)
    verifier, challenge = pkce_pair()
    answer = consent(client, app, access, scope=scope, challenge=challenge)
    response = exchange(app, answer["code"], verifier)
    assert response.status_code == 200, response.content
    return response.json()


def bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def id_token_claims(id_token: str) -> dict:
    """The claims of an ID token whose signature checks with the server's published keys."""
    import json

    from jwcrypto import jwk, jwt

    keys = jwk.JWKSet.from_json(Client().get(reverse("oauth2_provider:jwks-info")).content)
    return json.loads(jwt.JWT(jwt=id_token, key=keys).claims)
