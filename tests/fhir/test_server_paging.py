"""Paging (SPEC §11.1): keyset pages that stay right while the record changes, next links
under the server's base URL, and a fixed number of queries per page whatever the record's
size."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portico.fhir.server.resources import EVERYTHING
from portico.practices.models import Role
from tests import factories
from tests.fhir.conftest import connect_app
from tests.fhir.server_support import BASE, App, build_record
from tests.records import builders

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)


@pytest.fixture
def api(app, account) -> App:
    return App(connect_app(app, account)["access_token"])


def observations_with_ties(patient) -> None:
    """Labs, vitals and assessments, many on the same days (ties broken by table and key)."""
    for day in (3, 4, 5):
        for _ in range(3):
            builders.lab(patient, recorded_on=dt.date(2024, 1, day))
            builders.vital(patient, recorded_on=dt.date(2024, 1, day))
        builders.assessment(patient, recorded_on=dt.date(2024, 1, day))


def next_url(bundle: dict) -> str | None:
    return next((link["url"] for link in bundle["link"] if link["relation"] == "next"), None)


def entry_ids(bundle: dict) -> list[str]:
    return [e["resource"]["id"] for e in bundle.get("entry", [])]


def test_pages_hold_every_item_once_newest_first(api, patient):
    observations_with_ties(patient)
    pages = api.pages("Observation", {"_count": "4"})
    ids = [i for page in pages for i in entry_ids(page)]
    assert len(ids) == len(set(ids)) == pages[0]["total"] == 21
    dates = [e["resource"]["effectiveDateTime"] for page in pages for e in page.get("entry", [])]
    assert dates == sorted(dates, reverse=True)
    for page in pages:
        assert all(link["url"].startswith(BASE + "/Observation?") for link in page["link"])


def test_paging_is_stable_under_inserts(api, patient):
    observations_with_ties(patient)
    before = {i for page in api.pages("Observation", {"_count": "200"}) for i in entry_ids(page)}
    first = api.json("Observation", {"_count": "5"})
    # Between pages, newer items arrive, some on the very day the first page ended on, and an
    # older one too.
    boundary = first["entry"][-1]["resource"]["effectiveDateTime"]
    day = dt.date.fromisoformat(boundary)
    for build in (builders.lab, builders.vital, builders.assessment):
        build(patient, recorded_on=dt.date(2025, 6, 1))
        build(patient, recorded_on=day)
    builders.lab(patient, recorded_on=dt.date(2020, 1, 1))
    seen = entry_ids(first)
    url = next_url(first)
    while url:
        page = api.json(url)
        seen += entry_ids(page)
        url = next_url(page)
    assert len(seen) == len(set(seen)), "an item was shown twice"
    assert before <= set(seen), "an item of the original list was skipped"


def test_everything_paging_is_stable_under_inserts(api, patient, provider):
    build_record(patient, provider, n=3)
    before = {
        i for r in api.everything_in("Patient/$everything", {"_count": "200"}) for i in [r["id"]]
    }
    first = api.json("Patient/$everything", {"_count": "10"})
    for build, _text in builders.SECTIONS.values():
        build(patient, recorded_on=dt.date(2030, 1, 1))
    builders.encounter(patient, provider, visit_date=dt.date(2030, 1, 1))
    seen = [(e["resource"]["resourceType"], e["resource"]["id"]) for e in first["entry"]]
    url = next_url(first)
    while url:
        page = api.json(url)
        seen += [(e["resource"]["resourceType"], e["resource"]["id"]) for e in page["entry"]]
        url = next_url(page)
    assert len(seen) == len(set(seen))
    assert before <= {i for _t, i in seen}


def test_the_last_page_has_no_next_link_and_count_caps_at_200(api, patient):
    lab = builders.lab(patient)
    builders._copies(lab, 230, recorded_on=DAY)
    page = api.json("Observation", {"_count": "1000"})
    assert len(page["entry"]) == 200 and next_url(page)
    last = api.json(next_url(page))
    assert len(last["entry"]) == 30 and next_url(last) is None
    # A list that ends exactly at a page's end: that page has no next link.
    half = api.json("Observation", {"_count": "115", "category": "laboratory"})
    second = api.json(next_url(half))
    assert len(second["entry"]) == 115 and next_url(second) is None


def _queries(api: App, path: str, params: dict) -> int:
    api.json(path, params)  # the connection's "last read" is written at most once a minute
    with CaptureQueriesContext(connection) as captured:
        api.json(path, params)
    return len(captured.captured_queries)


def _grow(patient, provider, n: int) -> None:
    """n more of each kind of Observation, half of them recorded at a shared visit."""
    visit = builders.encounter(patient, provider)
    for build in (builders.lab, builders.vital, builders.assessment):
        builders._copies(build(patient), n // 2, recorded_on=DAY)
        builders._copies(build(patient, encounter=visit), n // 2, recorded_on=DAY)


def test_an_observation_page_costs_the_same_queries_whatever_the_records_size(
    api, patient, provider, django_assert_max_num_queries
):
    _grow(patient, provider, 20)
    small = _queries(api, "Observation", {"_count": "50"})
    _grow(patient, provider, 200)
    large = _queries(api, "Observation", {"_count": "50"})
    assert small == large
    # The token, its connection, the portal access; the total, three tables, the page's
    # visits; the audit row.
    with django_assert_max_num_queries(9):
        page = api.json("Observation", {"_count": "50"})
    assert len(page["entry"]) == 50
    assert any("encounter" in e["resource"] for e in page["entry"])
    with django_assert_max_num_queries(9):
        api.json(next_url(page))


def test_an_everything_page_costs_a_bounded_number_of_queries(
    api, patient, provider, django_assert_max_num_queries
):
    build_record(patient, provider, n=3)
    small = _queries(api, "Patient/$everything", {"_count": "50"})
    # More of everything (seen by another provider: one provider's visits never overlap).
    another = factories.make_staff(patient.practice, role=Role.PROVIDER, full_name="Dr. Two")
    build_record(patient, another, n=30)
    large = _queries(api, "Patient/$everything", {"_count": "50"})
    # The checks and the total, the sections, amendments, the page's visits and users, audit.
    bound = 4 + len(EVERYTHING) + 1 + 2 + 1
    assert small <= bound and large <= bound
    page = api.json("Patient/$everything", {"_count": "50"})
    while next_url(page):
        with django_assert_max_num_queries(bound):
            page = api.json(next_url(page))


def test_includes_cost_one_query(api, patient, provider):
    build_record(patient, provider, n=5)
    plain = _queries(api, "Encounter", {})
    included = _queries(api, "Encounter", {"_include": "Encounter:participant"})
    assert included == plain + 1
