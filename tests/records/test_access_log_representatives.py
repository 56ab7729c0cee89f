"""SPEC §9 in the access log: the patient reads a representative's reads of their record as
"Your parent Jordan Rivera viewed your record" (the relationship the event was written with, the
name of that account's representative of this chart); a representative's log lists the
patient's own reads, except a parent's or guardian's of an adolescent (from 12, in the practice's
time zone); nobody's log lists what they did themselves."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from portico.charts.services import chart_viewed
from portico.portal import selectors as portal_selectors
from portico.portal.models import PortalAccess
from portico.records import access_log
from tests.factories import enroll, enroll_representative, make_patient, sign_in
from tests.pages.html import parse

pytestmark = pytest.mark.django_db

HONOLULU = zoneinfo.ZoneInfo("Pacific/Honolulu")


def own_access(patient) -> PortalAccess:
    return PortalAccess.objects.get(patient=patient)


def log_rows(client, access) -> list[list[str]]:
    """(who, role, what) of each row of the access log read through `access`."""
    page = parse(client.get(reverse("records:access_log", args=[access.public_id])))
    body = page.find("tbody")
    if body is None:
        return []
    return [[td.text for td in tr.find_all("td")][1:] for tr in body.find_all("tr")]


def read(client, account, access, name: str = "records:record") -> None:
    sign_in(client, account)
    assert client.get(reverse(name, args=[access.public_id])).status_code == 200


def test_the_patient_reads_a_parents_reads_as_your_parent_viewed_your_record(
    client, admin, patient
):
    account = enroll(admin, patient)
    rep_account, rep = enroll_representative(admin, patient)  # Jordan Rivera, parent
    read(client, rep_account, rep)
    read(client, rep_account, rep, "records:download")

    sign_in(client, account)
    assert log_rows(client, own_access(patient)) == [
        ["Jordan Rivera", "Your parent", "Downloaded your record"],
        ["Jordan Rivera", "Your parent", "Viewed your record"],
    ]


def test_each_relationship_reads_as_the_patient_would_say_it(client, admin, patient):
    account = enroll(admin, patient)
    for name, relationship in (("Casey Care", "caregiver"), ("Gale Guard", "guardian")):
        rep_account, rep = enroll_representative(
            admin, patient, name=name, relationship=relationship
        )
        read(client, rep_account, rep)

    sign_in(client, account)
    assert log_rows(client, own_access(patient)) == [
        ["Gale Guard", "Your legal guardian", "Viewed your record"],
        ["Casey Care", "Your caregiver", "Viewed your record"],
    ]


def test_the_name_is_the_one_this_chart_knows_the_account_by(client, admin, practice, patient):
    """One account representing two charts under two names: each log says its own."""
    account = enroll(admin, patient)
    sibling = make_patient(practice)
    sibling_account = enroll(admin, sibling)
    rep_account, rep = enroll_representative(admin, patient, name="Jordan Rivera")
    _same, sibling_rep = enroll_representative(
        admin, sibling, account=rep_account, name="Jo Rivera", relationship="caregiver"
    )
    read(client, rep_account, rep)
    read(client, rep_account, sibling_rep)

    sign_in(client, account)
    assert log_rows(client, own_access(patient)) == [
        ["Jordan Rivera", "Your parent", "Viewed your record"]
    ]
    sign_in(client, sibling_account)
    assert log_rows(client, own_access(sibling)) == [
        ["Jo Rivera", "Your caregiver", "Viewed your record"]
    ]


def test_a_representatives_log_lists_the_patients_own_reads_and_staff_but_not_their_own(
    client, admin, patient, provider
):
    account = enroll(admin, patient)
    rep_account, rep = enroll_representative(admin, patient, relationship="caregiver")
    read(client, account, own_access(patient))
    read(client, rep_account, rep)
    chart_viewed(provider, patient=patient)

    sign_in(client, rep_account)
    assert log_rows(client, rep) == [
        ["Dr. Paula Provider", "Provider (MD)", "Opened the chart"],
        [patient.full_name, "Patient", "Viewed the record"],
    ]
    # ...and the patient's log, the caregiver's reads (this log too) but not the patient's own.
    sign_in(client, account)
    assert log_rows(client, own_access(patient)) == [
        ["Jordan Rivera", "Your caregiver", "Viewed your record"],
        ["Dr. Paula Provider", "Provider (MD)", "Opened your chart"],
        ["Jordan Rivera", "Your caregiver", "Viewed your record"],
    ]


@pytest.fixture
def teen(admin, practice):
    """Sam (born 2014-03-10, at a practice in Honolulu) with his own access, and his mother
    Jordan representing him. Returns (Sam's account, mother's account, her representative)."""
    practice.time_zone = "Pacific/Honolulu"
    practice.save()
    kid = make_patient(
        practice,
        legal_first_name="Sam",
        legal_last_name="Rivera",
        date_of_birth=dt.date(2014, 3, 10),
    )
    kid_account = enroll(admin, kid)
    parent_account, parent = enroll_representative(admin, kid)
    return kid_account, parent_account, parent


@pytest.mark.parametrize(
    "moment, listed",
    [
        (dt.datetime(2026, 3, 9, 23, 0, tzinfo=HONOLULU), True),  # 11 years 364 days
        (dt.datetime(2026, 3, 10, 0, 30, tzinfo=HONOLULU), False),  # 12
    ],
)
def test_a_parent_of_an_adolescent_does_not_see_the_adolescents_own_reads(
    client, teen, provider, moment, listed
):
    kid_account, parent_account, parent = teen
    kid = parent.patient
    with time_machine.travel(moment, tick=False):
        read(client, kid_account, own_access(kid))
        read(client, kid_account, own_access(kid), "records:download")
        chart_viewed(provider, patient=kid)

        sign_in(client, parent_account)
        rows = log_rows(client, parent)
    staff = ["Dr. Paula Provider", "Provider (MD)", "Opened the chart"]
    own = [
        ["Sam Rivera", "Patient", "Downloaded the record"],
        ["Sam Rivera", "Patient", "Viewed the record"],
    ]
    assert rows == ([staff, *own] if listed else [staff])


def test_the_adolescent_still_sees_the_parents_reads(client, teen):
    kid_account, parent_account, parent = teen
    with time_machine.travel(dt.datetime(2027, 1, 5, 12, tzinfo=HONOLULU), tick=False):  # 12
        read(client, parent_account, parent)
        sign_in(client, kid_account)
        assert log_rows(client, own_access(parent.patient)) == [
            ["Jordan Rivera", "Your parent", "Viewed your record"]
        ]


def test_the_portal_home_list_is_a_read_of_the_record_too(client, admin, patient, practice):
    """A representative's home page, listing the record among the account's several."""
    account = enroll(admin, patient)
    rep_account = enroll(admin, make_patient(practice))
    enroll_representative(admin, patient, account=rep_account)
    sign_in(client, rep_account)
    client.get(reverse("portal:home"))

    sign_in(client, account)
    assert log_rows(client, own_access(patient)) == [
        ["Jordan Rivera", "Your parent", "Viewed your record"]
    ]


def test_another_charts_reads_are_not_listed(client, admin, practice, patient):
    account = enroll(admin, patient)
    other = make_patient(practice)
    rep_account, rep = enroll_representative(admin, other)
    read(client, rep_account, rep)

    sign_in(client, account)
    assert log_rows(client, own_access(patient)) == []


def test_the_log_reads_the_names_in_one_query_whatever_the_number_of_representatives(
    client, admin, patient, provider
):
    account = enroll(admin, patient)
    counts = []
    for n in (1, 4):
        for i in range(n):
            rep_account, rep = enroll_representative(admin, patient, name=f"Rep {n}-{i}")
            read(client, rep_account, rep)
        chart_viewed(provider, patient=patient)
        access = portal_selectors.patient_access_list(account)[0]
        with CaptureQueriesContext(connection) as queries:
            _page, entries = access_log.access_log_page(access)
        assert {e.name for e in entries} >= {f"Rep {n}-{i}" for i in range(n)}
        counts.append(len(queries))
    # The count, the page of events, the staff's roles and the representatives' names.
    assert counts == [4, 4]
