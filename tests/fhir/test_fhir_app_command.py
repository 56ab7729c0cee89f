"""`portico fhir_app`: the deployment's operator registers, lists and removes patient apps."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth.hashers import check_password
from django.core.management import CommandError, call_command
from oauth2_provider.models import Application

from portico.audit.models import AuditEvent
from portico.fhir import services
from portico.fhir.management.commands.fhir_app import Command
from portico.fhir.models import AppRegistration
from tests.fhir.conftest import connect_app
from tests.fhir.test_connected_apps import caller

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = io.StringIO()
    call_command("fhir_app", *args, stdout=out)
    return out.getvalue()


def value(output: str, label: str) -> str:
    return next(line for line in output.splitlines() if line.startswith(f"{label}: ")).split()[-1]


def test_register_prints_the_client_id_of_a_public_app(db):
    output = run(
        "register",
        "--name",
        "Health Tracker",
        "--redirect-uri",
        "https://app.example/callback",
        "--redirect-uri",
        "http://127.0.0.1:8765/callback",
    )

    application = Application.objects.get(client_id=value(output, "client_id"))
    assert application.name == "Health Tracker"
    assert application.client_type == Application.CLIENT_PUBLIC
    assert application.redirect_uris.split() == [
        "https://app.example/callback",
        "http://127.0.0.1:8765/callback",
    ]
    assert "client_secret" not in output
    assert AppRegistration.objects.get(application=application).practice is None
    event = AuditEvent.objects.get(action="fhir.app_registered")
    assert event.actor is None and event.actor_label == "operator"


def test_register_shows_a_confidential_apps_secret_once_and_stores_it_hashed(db):
    output = run(
        "register", "--name", "Clinic Sync", "--redirect-uri", "https://sync.example/cb",
        "--confidential",
    )  # fmt: skip

    secret = value(output, "client_secret")
    application = Application.objects.get(client_id=value(output, "client_id"))
    assert application.client_type == Application.CLIENT_CONFIDENTIAL
    assert secret not in application.client_secret
    assert check_password(secret, application.client_secret)
    assert secret not in run("list")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--name", " ", "--redirect-uri", "https://app.example/cb"], "Enter the app's name."),
        (["--name", "X", "--redirect-uri", "http://app.example/cb"], "must use https"),
        (["--name", "X", "--redirect-uri", "app.example/cb"], "not an absolute web address"),
        (["--name", "X", "--redirect-uri", "https://app.example/cb#frag"], "absolute web"),
        (["--name", "X"], "--redirect-uri"),
        (["--redirect-uri", "https://app.example/cb"], "--name"),
    ],
)
def test_register_refuses_bad_input_and_registers_nothing(db, args, message):
    with pytest.raises(CommandError, match=message):
        run("register", *args)
    assert not Application.objects.exists()
    assert not AuditEvent.objects.filter(action="fhir.app_registered").exists()


def test_http_redirect_uris_are_allowed_on_a_development_deployment(db, settings):
    settings.DEBUG = True
    output = run("register", "--name", "Dev app", "--redirect-uri", "http://dev.example/cb")
    assert Application.objects.get(client_id=value(output, "client_id")).name == "Dev app"


def test_list_names_every_app_and_who_registered_it(db, practice, admin):
    operator = services.register_app(
        None, name="Health Tracker", redirect_uris="https://a.example/cb", confidential=False
    ).application
    practices = services.register_app(
        admin,
        name="Clinic Sync",
        redirect_uris="https://b.example/cb",
        confidential=True,
        practice=practice,
    ).application

    rows = [line.split("\t") for line in run("list").splitlines()]

    assert rows == [
        [practices.client_id, "confidential", f"practice {practice.slug}", "Clinic Sync",
         "https://b.example/cb"],
        [operator.client_id, "public", "operator", "Health Tracker", "https://a.example/cb"],
    ]  # fmt: skip


def test_list_says_when_there_is_none(db):
    assert run("list") == "No app is registered.\n"


def test_remove_deletes_the_app_and_ends_its_connections(app, account):
    tokens = connect_app(app, account)
    assert caller(tokens["access_token"]).connection.application == app

    output = run("remove", app.client_id)

    assert "Removed “Health Tracker”; 1 patient connection(s) to it ended." in output
    assert not Application.objects.filter(pk=app.pk).exists()
    assert caller(tokens["access_token"]).status_code == 401
    event = AuditEvent.objects.get(action="fhir.app_removed")
    assert event.details["connections_ended"] == 1 and event.actor_label == "operator"


def test_remove_refuses_an_unknown_client_id_with_a_non_zero_exit(app, capsys, monkeypatch):
    # run_from_argv closes the database connections when it ends; the test's transaction
    # (PostgreSQL) needs its connection for the checks below.
    from django.core.management import base

    monkeypatch.setattr(base.connections, "close_all", lambda: None)
    with pytest.raises(SystemExit) as exited:
        Command().run_from_argv(["portico", "fhir_app", "remove", "no-such-client"])
    assert exited.value.code != 0
    assert "No app has the client_id 'no-such-client'" in capsys.readouterr().err
    assert Application.objects.filter(pk=app.pk).exists()
