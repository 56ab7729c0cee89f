"""The demo's patient app (SPEC §11.1): "SMART demo client", registered by the operator (as
`portico fhir_app register` does), so a newcomer can connect an app to Jordan Rivera's record
with scripts/smart_demo_client.py and SMART's Python client, `fhirclient`.

A public client (PKCE, no secret), like an app on the patient's own computer: its redirect URI
is a loopback address, where the script listens for the patient's answer on a port the system
gives it (RFC 8252 §7.3: any port is accepted for a loopback redirect URI).
"""

from __future__ import annotations

from oauth2_provider.models import Application

from portico.fhir import services as fhir

DEMO_APP_NAME = "SMART demo client"
DEMO_APP_REDIRECT_URI = "http://127.0.0.1/callback"


def demo_smart_app() -> Application | None:
    """The demo app, once registered."""
    return Application.objects.filter(
        name=DEMO_APP_NAME, registration__practice__isnull=True
    ).first()


def give_demo_smart_app() -> Application:
    """Register the demo app, once (a demo database from before patient apps gets it too)."""
    existing = demo_smart_app()
    if existing is not None:
        return existing
    return fhir.register_app(
        None,
        name=DEMO_APP_NAME,
        redirect_uris=DEMO_APP_REDIRECT_URI,
        confidential=False,
    ).application
