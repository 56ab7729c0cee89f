"""SPEC §11.1 in the access log: reads made through a connected app are listed with the app's
name, under the name of whoever connected it (the patient, or a representative as "Your
parent"), on the patient's own log too: an app reading is not the reader reading."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from portico.fhir import services
from portico.fhir.models import AppConnection
from portico.portal.models import PortalAccess
from portico.records import access_log
from tests.factories import enroll, enroll_representative, make_patient, sign_in
from tests.fhir.conftest import REDIRECT_URI, connect_app
from tests.pages.html import parse

pytestmark = pytest.mark.django_db


@pytest.fixture
def app(db):
    return services.register_app(
        None, name="Health Tracker", redirect_uris=REDIRECT_URI, confidential=False
    ).application


def own_access(patient) -> PortalAccess:
    return PortalAccess.objects.get(patient=patient)


def log_rows(client, access) -> list[list[str]]:
    """(who, role, what) of each row of the access log read through `access`."""
    page = parse(client.get(reverse("records:access_log", args=[access.public_id])))
    body = page.find("tbody")
    if body is None:
        return []
    return [[td.text for td in tr.find_all("td")][1:] for tr in body.find_all("tr")]


def app_reads(app, account, access=None, *, times: int = 1) -> AppConnection:
    """Connect the app through `access` and let it read `times` times."""
    connect_app(app, account, access)
    connection = AppConnection.objects.get(account=account, ended_at__isnull=True)
    for _ in range(times):
        services.app_read(connection, what="Observation search", count=2)
    return connection


def test_the_patients_own_app_is_listed_with_its_name(client, app, admin, patient):
    account = enroll(admin, patient)
    app_reads(app, account)

    sign_in(client, account)
    assert log_rows(client, own_access(patient)) == [
        [patient.full_name, "Patient", "Read your record through the app “Health Tracker”"]
    ]


def test_a_representatives_app_is_listed_under_their_name_on_both_logs(client, app, admin, patient):
    account = enroll(admin, patient)
    rep_account, rep = enroll_representative(admin, patient)  # Jordan Rivera, parent
    app_reads(app, rep_account, rep)

    sign_in(client, rep_account)
    assert log_rows(client, rep) == [
        ["Jordan Rivera", "Parent", "Read the record through the app “Health Tracker”"]
    ]
    sign_in(client, account)
    assert log_rows(client, own_access(patient))[-1] == [
        "Jordan Rivera",
        "Your parent",
        "Read your record through the app “Health Tracker”",
    ]


def test_the_representative_sees_the_patients_app_as_other_reads(client, app, admin, patient):
    account = enroll(admin, patient)
    rep_account, rep = enroll_representative(admin, patient)
    app_reads(app, account)

    sign_in(client, rep_account)
    assert log_rows(client, rep) == [
        [patient.full_name, "Patient", "Read the record through the app “Health Tracker”"]
    ]


def test_another_charts_app_reads_are_not_listed(client, app, admin, practice, patient):
    account = enroll(admin, patient)
    other = make_patient(practice)
    app_reads(app, enroll(admin, other))

    sign_in(client, account)
    assert log_rows(client, own_access(patient)) == []


def test_app_reads_keep_the_logs_query_count_fixed(app, admin, patient, provider):
    from portico.charts.services import chart_viewed

    account = enroll(admin, patient)
    rep_account, rep = enroll_representative(admin, patient)
    app_reads(app, account, times=2)
    chart_viewed(provider, patient=patient)

    with CaptureQueriesContext(db_connection) as few:
        access_log.access_log_page(own_access(patient))
    app_reads(app, rep_account, rep, times=5)
    with CaptureQueriesContext(db_connection) as many:
        _page, entries = access_log.access_log_page(own_access(patient))
    assert len(entries) == 2 + 5 + 1
    assert len(many) == len(few) + 1  # the representatives' names, now that one is listed


def test_a_parent_of_an_adolescent_does_not_see_the_adolescents_apps(client, app, admin, practice):
    from django.utils import timezone

    fourteen = timezone.localdate() - dt.timedelta(days=14 * 366)
    kid = make_patient(practice, date_of_birth=fourteen)
    kid_account = enroll(admin, kid)
    parent_account, parent = enroll_representative(admin, kid)
    app_reads(app, kid_account)

    sign_in(client, parent_account)
    assert log_rows(client, parent) == []
    sign_in(client, kid_account)
    assert log_rows(client, own_access(kid))[-1][2] == (
        "Read your record through the app “Health Tracker”"
    )
