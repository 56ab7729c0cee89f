"""SPEC §6.3: the patient's "Access log" shows who at the practice opened the chart, and when."""

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from portico.audit.services import audit_record
from portico.charts.services import chart_viewed
from portico.records.access_log import PAGE_SIZE
from tests.pages.html import parse
from tests.records.conftest import record_url

pytestmark = pytest.mark.django_db


def rows(client, patient, page=None):
    url = record_url(patient, "records:access_log") + (f"?page={page}" if page else "")
    table = parse(client.get(url)).find("table")
    if table is None:
        return []
    return [[td.text for td in tr.find_all("td")] for tr in table.one("tbody").find_all("tr")]


def test_staff_chart_views_are_listed_with_name_and_role_newest_first(
    patient_client, patient, staff, provider, admin
):
    start = timezone.now() - dt.timedelta(days=3)
    with time_machine.travel(start, tick=False):
        chart_viewed(staff, patient=patient)
    with time_machine.travel(start + dt.timedelta(days=1), tick=False):
        chart_viewed(provider, patient=patient, what="api demographics")

    listed = rows(patient_client, patient)

    assert [r[1:3] for r in listed] == [
        ["Dr. Paula Provider", "Provider (MD)"],
        ["Stan Staff", "Staff"],
    ]
    assert listed[0][3] == "Through the practice's software (API)"
    assert listed[1][3] == "Opened your chart"
    for row in listed:
        assert str(staff.pk) not in row[1] and "@" not in row[1]


def test_the_patients_own_reads_and_other_charts_are_not_listed(
    patient_client, patient, practice, staff, account
):
    from tests import factories

    other = factories.make_patient(practice)
    chart_viewed(staff, patient=other)
    patient_client.get(record_url(patient))  # the patient's own read (phr.view)
    audit_record(staff, action="chart.update", practice=practice, patient=patient)

    assert rows(patient_client, patient) == []
    page = parse(patient_client.get(record_url(patient, "records:access_log")))
    assert "No one at the practice has opened your chart yet." in page.one("main").text


def test_access_log_is_paginated(patient_client, patient, staff):
    for _ in range(PAGE_SIZE + 3):
        chart_viewed(staff, patient=patient)

    assert len(rows(patient_client, patient)) == PAGE_SIZE
    assert len(rows(patient_client, patient, page=2)) == 3
    page = parse(patient_client.get(record_url(patient, "records:access_log")))
    assert page.one("a", rel="next").text == "Older"


def test_a_reader_who_left_the_practice_is_still_listed(patient_client, patient, staff):
    chart_viewed(staff, patient=patient)
    staff.memberships.all().delete()

    assert rows(patient_client, patient)[0][1:3] == ["Stan Staff", "Former practice member"]
