"""The demo's patient app (demo.smart_app): "SMART demo client", registered by the operator as a
public client with a loopback redirect URI, once; `make demo` prints its client_id and how to
run scripts/smart_demo_client.py (tests/e2e/test_smart_app.py runs the script)."""

import pytest
from django.core.management import call_command
from oauth2_provider.models import Application

from portico.demo import seed as demo
from portico.demo.smart_app import DEMO_APP_NAME, DEMO_APP_REDIRECT_URI, demo_smart_app
from portico.fhir.models import AppRegistration


@pytest.fixture
def seeded(db):
    call_command("seed_demo")


def test_the_demo_has_a_public_app_registered_by_the_operator(seeded):
    app = demo_smart_app()
    assert app is not None and app.name == DEMO_APP_NAME
    assert app.client_type == Application.CLIENT_PUBLIC
    assert app.redirect_uris == DEMO_APP_REDIRECT_URI
    registration = AppRegistration.objects.get(application=app)
    assert registration.practice is None and registration.registered_by is None
    # Any port of the loopback address (RFC 8252), where the script listens.
    assert app.redirect_uri_allowed("http://127.0.0.1:53124/callback")
    assert not app.redirect_uri_allowed("http://127.0.0.1:53124/elsewhere")


def test_make_demo_registers_it_once_also_on_an_older_demo_database(seeded):
    Application.objects.all().delete()
    demo.demo_smart_app()
    demo.demo_smart_app()
    assert Application.objects.filter(name=DEMO_APP_NAME).count() == 1


def test_the_welcome_prints_the_client_id_and_the_script(seeded, capsys, settings):
    settings.DEMO = True
    call_command("demo", setup_only=True)
    printed = capsys.readouterr().out
    app = demo_smart_app()
    assert f"client_id {app.client_id}" in printed
    assert f"{settings.PORTICO_BASE_URL}/.well-known/smart-configuration" in printed
    assert (
        "scripts/smart_demo_client.py "
        f"--fhir-base {settings.PORTICO_BASE_URL}/fhir/R4 --client-id {app.client_id}"
    ) in printed
