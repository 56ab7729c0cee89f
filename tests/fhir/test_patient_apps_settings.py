"""EHR Settings > Patient apps: a practice's administrators register and remove the apps their
patients may connect; nobody else sees or changes them."""

from __future__ import annotations

import pytest
from django.contrib.auth.hashers import check_password
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import reverse
from oauth2_provider.models import Application

from portico.audit.models import AuditEvent
from portico.fhir import services
from portico.fhir.models import AppRegistration
from tests import factories
from tests.factories import sign_in
from tests.fhir.conftest import connect_app
from tests.fhir.test_connected_apps import caller
from tests.pages.html import parse

pytestmark = pytest.mark.django_db

APPS = "/ehr/settings/patient-apps/"


def remove_url(application) -> str:
    return reverse("fhir_settings:remove", args=[application.client_id])


def register(client, **fields):
    data = {
        "name": "Clinic Sync",
        "redirect_uris": "https://sync.example/cb\r\nhttps://sync.example/other",
        "client_type": "confidential",
    }
    data.update(fields)
    return client.post(APPS, data)


def practice_app(practice, admin, name="Clinic Sync"):
    return services.register_app(
        admin,
        name=name,
        redirect_uris="https://sync.example/cb",
        confidential=False,
        practice=practice,
    ).application


# -- who may ---------------------------------------------------------------------------------


def test_staff_who_are_not_administrators_can_neither_see_nor_change_apps(
    client, staff, admin, practice
):
    application = practice_app(practice, admin)
    sign_in(client, staff)

    assert client.get(APPS).status_code == 403
    assert register(client, name="Sneaky").status_code == 403
    assert client.get(remove_url(application)).status_code == 403
    assert client.post(remove_url(application)).status_code == 403
    assert list(Application.objects.values_list("name", flat=True)) == ["Clinic Sync"]


def test_a_patient_account_gets_no_settings_page(client, admin, patient):
    sign_in(client, factories.enroll(admin, patient))
    assert client.get(APPS).status_code == 403
    assert register(client).status_code == 403
    assert not Application.objects.exists()


def test_the_services_refuse_a_non_administrator(staff, practice, admin):
    with pytest.raises(PermissionDenied):
        services.register_app(
            staff,
            name="X",
            redirect_uris="https://x.example/cb",
            confidential=False,
            practice=practice,
        )
    application = practice_app(practice, admin)
    with pytest.raises(PermissionDenied):
        services.remove_app(staff, application, practice=practice)
    assert Application.objects.filter(pk=application.pk).exists()


def test_a_practice_cannot_remove_another_practices_app(client, outsider, admin, practice):
    application = practice_app(practice, admin)
    sign_in(client, outsider)

    assert client.get(remove_url(application)).status_code == 404
    assert client.post(remove_url(application)).status_code == 404
    assert "Clinic Sync" not in client.get(APPS).content.decode()
    with pytest.raises(Http404):
        services.remove_app(outsider, application, practice=outsider.memberships.get().practice)
    assert Application.objects.filter(pk=application.pk).exists()


def test_a_practice_cannot_remove_the_operators_app(client, admin, practice, app):
    sign_in(client, admin)
    assert client.post(remove_url(app)).status_code == 404
    with pytest.raises(Http404):
        services.remove_app(admin, app, practice=practice)
    assert Application.objects.filter(pk=app.pk).exists()


# -- registering -----------------------------------------------------------------------------


def test_a_confidential_apps_secret_is_shown_once_and_stored_hashed(client, admin, practice):
    sign_in(client, admin)
    response = register(client)

    assert response.status_code == 200
    page = parse(response)
    secret = page.one(id="new-client-secret").text
    client_id = page.one(id="new-client-id").text
    application = Application.objects.get(client_id=client_id)
    assert application.name == "Clinic Sync"
    assert application.client_type == Application.CLIENT_CONFIDENTIAL
    assert application.redirect_uris.split() == [
        "https://sync.example/cb",
        "https://sync.example/other",
    ]
    assert AppRegistration.objects.get(application=application).practice == practice
    assert secret not in application.client_secret
    assert check_password(secret, application.client_secret)
    assert secret not in client.get(APPS).content.decode()
    event = AuditEvent.objects.get(action="fhir.app_registered")
    assert (event.actor, event.practice) == (admin, practice)


def test_a_public_app_gets_no_secret(client, admin):
    sign_in(client, admin)
    page = parse(register(client, client_type="public"))
    assert page.find(id="new-client-secret") is None
    application = Application.objects.get(client_id=page.one(id="new-client-id").text)
    assert application.client_type == Application.CLIENT_PUBLIC


def test_bad_input_is_shown_by_its_field_and_registers_nothing(client, admin):
    sign_in(client, admin)
    response = register(client, name="", redirect_uris="http://sync.example/cb")

    assert response.status_code == 200
    page = parse(response)
    assert page.one(id="id_name_error").text == "This field is required."
    response = register(client, redirect_uris="http://sync.example/cb")
    page = parse(response)
    assert "must use https" in page.one(id="id_redirect_uris_error").text
    assert page.one("textarea")["aria-invalid"] == "true"
    assert not Application.objects.exists()


def test_the_page_lists_the_practices_apps_and_mentions_the_operators(
    client, admin, practice, other_practice, app
):
    practice_app(practice, admin, name="Clinic Sync")
    practice_app(other_practice, factories.make_admin(other_practice), name="Hilltop Reader")
    sign_in(client, admin)

    page = parse(client.get(APPS))

    rows = page.one("tbody").find_all("tr")
    assert [row.one("th").text for row in rows] == ["Clinic Sync"]
    assert "Hilltop Reader" not in page.text
    assert (
        "One more app, registered by the deployment's operator, is available to every patient: "
        "Health Tracker." in page.text
    )
    nav = page.one("nav", class_="settings-nav")
    assert nav.one("a", text="Patient apps")["aria-current"] == "page"


# -- removing --------------------------------------------------------------------------------


def test_removing_asks_first_then_ends_every_connection(client, admin, practice, account):
    application = practice_app(practice, admin)
    application.redirect_uris = "https://app.example/callback"
    application.save()
    tokens = connect_app(application, account)
    sign_in(client, admin)

    confirm = parse(client.get(remove_url(application)))
    assert confirm.one("main").find("h2", text="Remove “Clinic Sync”?") is not None
    assert confirm.one("main").find("button", text="Remove app") is not None
    assert Application.objects.filter(pk=application.pk).exists()

    response = client.post(remove_url(application), follow=True)

    assert response.redirect_chain == [(APPS, 302)]
    assert (
        "“Clinic Sync” is removed; 1 patient connection to it ended." in response.content.decode()
    )
    assert not Application.objects.filter(pk=application.pk).exists()
    assert caller(tokens["access_token"]).status_code == 401
    event = AuditEvent.objects.get(action="fhir.app_removed")
    assert (event.actor, event.practice, event.details["connections_ended"]) == (admin, practice, 1)
