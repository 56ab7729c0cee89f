"""The consent page's Content-Security-Policy lets its form reach the app, and only that app.

Answering the consent form redirects the browser to the app's redirect URI, and Chromium applies
`form-action` to the redirects that follow a form: with Portico's usual `form-action 'self'`,
"Allow" would never reach the app (tests/e2e/test_smart_app.py drives it in Chromium)."""

from django.conf import settings
from django.test import Client
from django.urls import reverse

from portico.fhir import services
from portico.portal.models import PortalAccess
from tests.factories import sign_in
from tests.fhir.conftest import authorize_params, pkce_pair


def _directives(policy: str) -> dict[str, str]:
    return dict(part.strip().split(" ", 1) for part in policy.split(";"))


def _signed_in(account) -> Client:
    client = Client()
    sign_in(client, account)
    return client


def test_the_consent_page_may_send_its_form_to_the_apps_redirect_uri_only(app, account):
    _verifier, challenge = pkce_pair()
    page = _signed_in(account).get(
        reverse("oauth2_provider:authorize"), authorize_params(app, challenge=challenge)
    )
    assert page.status_code == 200
    policy = _directives(page["Content-Security-Policy"])
    assert policy["form-action"] == "'self' https://app.example"
    # Everything else as on every page.
    usual = settings.PORTICO_CONTENT_SECURITY_POLICY
    assert {k: v for k, v in policy.items() if k != "form-action"} == {
        k: v for k, v in usual.items() if k != "form-action"
    }


def test_a_loopback_redirect_uri_is_allowed_on_the_port_the_app_asked_for(account):
    native = services.register_app(
        None,
        name="Desktop app",
        redirect_uris="http://127.0.0.1/callback",
        confidential=False,
    ).application
    _verifier, challenge = pkce_pair()
    params = authorize_params(native, challenge=challenge)
    params["redirect_uri"] = "http://127.0.0.1:51234/callback"
    page = _signed_in(account).get(reverse("oauth2_provider:authorize"), params)
    assert page.status_code == 200
    assert _directives(page["Content-Security-Policy"])["form-action"] == (
        "'self' http://127.0.0.1:51234"
    )


def test_the_page_shown_again_after_a_missing_choice_keeps_the_apps_address(app, account):
    _verifier, challenge = pkce_pair()
    client = _signed_in(account)
    params = authorize_params(app, challenge=challenge)
    client.get(reverse("oauth2_provider:authorize"), params)
    form = {k: v for k, v in params.items() if k != "aud"}
    form["allow"] = "on"  # no record chosen
    again = client.post(reverse("oauth2_provider:authorize"), form)
    assert again.status_code == 400
    assert _directives(again["Content-Security-Policy"])["form-action"] == (
        "'self' https://app.example"
    )
    # A redirect URI the app did not register goes nowhere near the policy.
    form["redirect_uri"] = "https://evil.example/callback"
    refused = client.post(reverse("oauth2_provider:authorize"), form)
    assert "evil.example" not in refused.get("Content-Security-Policy", "")
    assert PortalAccess.objects.filter(account=account).exists()
