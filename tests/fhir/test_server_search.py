"""Search parameters (SPEC §11.1): what each matches, and every malformed or unknown one is a
400 OperationOutcome, never a 500."""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portico.fhir.server.resources import TYPES
from portico.scheduling.models import Appointment
from tests.fhir.conftest import connect_app
from tests.fhir.server_support import App, build_record
from tests.records import builders

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(app, account) -> App:
    return App(connect_app(app, account)["access_token"])


def effective(api: App, **params) -> list[str]:
    bundle = api.json("Observation", {"_count": "200", **params})
    return [e["resource"]["effectiveDateTime"] for e in bundle.get("entry", [])]


# -- dates ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, days",
    [
        ("2024-03-11", {11}),
        ("eq2024-03-11", {11}),
        ("ne2024-03-11", {10, 12}),
        ("lt2024-03-11", {10}),
        ("le2024-03-11", {10, 11}),
        ("gt2024-03-11", {12}),
        ("ge2024-03-11", {11, 12}),
        ("sa2024-03-11", {12}),
        ("eb2024-03-11", {10}),
        ("2024-03", {10, 11, 12}),
        ("2024", {10, 11, 12}),
        ("eq2023", set()),
        ("gt2023", {10, 11, 12}),
        ("lt2024-03", set()),
        # A time within the 11th: the day overlaps it, is not within it, ends after it.
        ("eq2024-03-11T12:00", set()),
        ("ge2024-03-11T12:00", {11, 12}),
        ("gt2024-03-11T12:00", {11, 12}),
        ("le2024-03-11T12:00", {10, 11}),
        ("lt2024-03-11T12:00", {10, 11}),
        ("sa2024-03-11T12:00", {12}),
        ("eb2024-03-11T12:00", {10}),
        ("ge2024-03-11T00:00:00", {11, 12}),
        ("lt2024-03-12T00:00:00", {10, 11}),
        ("ge0001", {10, 11, 12}),
        ("le9999", {10, 11, 12}),
        ("gt9999-12-31T23:59:59+14:00", set()),
        ("lt0001-01-01T00:00:00-12:00", set()),
    ],
)
def test_date_prefixes_compare_ranges(api, patient, value, days):
    for day in (10, 11, 12):
        builders.lab(patient, recorded_on=dt.date(2024, 3, day))
    assert {int(d[-2:]) for d in effective(api, date=value)} == days


def test_several_dates_must_all_hold_and_commas_are_either(api, patient):
    for day in (10, 11, 12, 13):
        builders.vital(patient, recorded_on=dt.date(2024, 3, day))
    assert len(effective(api, date=["ge2024-03-11", "lt2024-03-13"])) == 2
    assert len(effective(api, date="2024-03-10,2024-03-13")) == 2


def test_an_instants_date_is_the_practices_day(api, patient, provider):
    zone = zoneinfo.ZoneInfo(patient.practice.time_zone)
    late = dt.datetime(2024, 5, 1, 23, 30, tzinfo=zone)  # the next day in UTC
    Appointment.objects.create(
        practice=patient.practice,
        patient=patient,
        provider=provider,
        start_at=late,
        end_at=late + dt.timedelta(minutes=30),
    )

    def found(**params):
        return api.json("Appointment", params)["total"]

    assert found(date="2024-05-01") == 1
    assert found(date="2024-05-02") == 0
    assert found(date="2024-05-02T03:30:00Z") == 1
    assert found(date="ge2024-05-02T03:30:01Z") == 0
    assert found(date="lt2024-05-02T03:30:01Z") == 1


def test_a_notes_date_is_when_it_was_signed_its_period_the_visit(api, patient, provider):
    visit = builders.encounter(patient, provider, visit_date=dt.date(2024, 2, 1))
    signed = visit.signed_at.astimezone(zoneinfo.ZoneInfo(patient.practice.time_zone)).date()

    def found(**params):
        return api.json("DocumentReference", params)["total"]

    assert found(period="2024-02-01") == 1 and found(period="2024-02-02") == 0
    assert found(date=signed.isoformat()) == 1 and found(date="2024-02-01") == 0


# -- tokens ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "code, kinds",
    [
        ("http://loinc.org|4548-4", {"lab"}),
        ("4548-4", {"lab"}),
        ("|4548-4", set()),
        ("http://snomed.info/sct|4548-4", set()),
        ("http://loinc.org|", {"lab", "vital", "assessment"}),
        ("8867-4", {"vital"}),
        ("http://loinc.org|8867-4", {"vital"}),
        ("http://loinc.org|44249-1,8867-4", {"vital", "assessment"}),
        ("nothing-like-it", set()),
    ],
)
def test_code_matches_the_stored_coding(api, patient, code, kinds):
    builders.lab(patient)
    builders.vital(patient)
    builders.assessment(patient)
    builders.lab(patient, code="", code_system="", display="Free text result")
    bundle = api.json("Observation", {"code": code})
    profiles = {
        e["resource"]["meta"]["profile"][0].rsplit("-", 1)[-1] for e in bundle.get("entry", [])
    }
    names = {"lab": "lab", "signs": "vital", "assessment": "assessment"}
    assert {names[p] for p in profiles} == kinds


@pytest.mark.parametrize(
    "category, count",
    [
        ("laboratory", 1),
        ("vital-signs", 1),
        ("survey", 1),
        ("http://terminology.hl7.org/CodeSystem/observation-category|survey", 1),
        ("laboratory,survey", 2),
        ("sdoh", 0),
        ("http://example.org|laboratory", 0),
    ],
)
def test_observation_category_picks_the_tables(api, patient, category, count):
    builders.lab(patient)
    builders.vital(patient)
    builders.assessment(patient)
    assert api.json("Observation", {"category": category})["total"] == count


def test_status_parameters(api, patient):
    builders.problem(patient)
    builders.problem(patient, status="resolved", resolved_on=dt.date(2024, 12, 1))
    builders.medication(patient, status="stopped")
    builders.care_plan(patient, end_date=dt.date(2020, 1, 1))
    builders.care_plan(patient)
    assert api.json("Condition", {"clinical-status": "resolved"})["total"] == 1
    assert api.json("Condition", {"clinical-status": "active,resolved"})["total"] == 2
    assert api.json("MedicationRequest", {"status": "stopped"})["total"] == 1
    assert api.json("MedicationRequest", {"status": "active"})["total"] == 0
    assert api.json("MedicationRequest", {"intent": "plan"})["total"] == 0
    assert api.json("CarePlan", {"status": "completed"})["total"] == 1
    assert api.json("CarePlan", {"status": "active"})["total"] == 1
    assert api.json("Observation", {"status": "preliminary"})["total"] == 0


def test_summary_count_and_total_none(api, patient, provider):
    build_record(patient, provider, n=3)
    counted = api.json("Observation", {"_summary": "count"})
    assert counted["total"] > 0 and "entry" not in counted
    assert "total" not in api.json("Observation", {"_total": "none"})
    assert "entry" not in api.json("Observation", {"_count": "0"})


def test_later_pages_leave_the_total_out_unless_it_is_asked_for(api, patient, provider):
    build_record(patient, provider, n=3)
    pages = api.pages("Observation", {"_count": "2"})
    assert len(pages) > 2
    assert pages[0]["total"] == sum(len(page["entry"]) for page in pages)
    assert all("total" not in page for page in pages[1:])
    asked = api.pages("Observation", {"_count": "2", "_total": "accurate"})
    assert [page["total"] for page in asked] == [pages[0]["total"]] * len(asked)
    everything = api.pages("Patient/$everything", {"_count": "5"})
    assert everything[0]["total"] == sum(len(page["entry"]) for page in everything)
    assert all("total" not in page for page in everything[1:])


def test_post_search_answers_as_get(api, patient, provider):
    build_record(patient, provider, n=2)
    by_get = api.json("Observation", {"category": "laboratory", "_count": "2"})
    response = api.post("Observation/_search", {"category": "laboratory", "_count": "2"})
    assert response.status_code == 200
    by_post = response.json()
    assert [e["fullUrl"] for e in by_post["entry"]] == [e["fullUrl"] for e in by_get["entry"]]
    assert by_post["total"] == by_get["total"]
    # Its links are GET searches with the same parameters.
    assert by_post["link"][0]["url"].endswith("/Observation?category=laboratory&_count=2")


def test_post_search_takes_a_form_not_json(api):
    response = api.client.post(
        "/fhir/R4/Observation/_search",
        '{"category": "laboratory"}',
        "application/json",
        HTTP_AUTHORIZATION=f"Bearer {api.token}",
    )
    assert response.status_code == 415
    assert response.json()["resourceType"] == "OperationOutcome"


def test_lenient_handling_ignores_unknown_parameters(api):
    assert api.get("Observation", {"foo": "bar"}).status_code == 400
    lenient = api.get("Observation", {"foo": "bar"}, HTTP_PREFER="handling=lenient")
    assert lenient.status_code == 200
    assert "foo" not in lenient.json()["link"][0]["url"]


# -- bad parameters: a 400 OperationOutcome, never a 500 -----------------------------------------

BAD = [
    ("Observation", {"date": "2024-13-01"}),
    ("Observation", {"date": "2024-02-30"}),
    ("Observation", {"date": "xx2024"}),
    ("Observation", {"date": "ap2024"}),
    ("Observation", {"date": "2024-01-01T25:00"}),
    ("Observation", {"date": "2024-01-01T10:00+15:00"}),
    ("Observation", {"date": "2024-01-01Z"}),
    ("Observation", {"date": "yesterday"}),
    ("Observation", {"date": "0000"}),
    ("Observation", {"date": ""}),
    ("Observation", {"_count": "abc"}),
    ("Observation", {"_count": "-1"}),
    ("Observation", {"_count": "1.5"}),
    ("Observation", {"_count": "١٢"}),
    ("Observation", {"_count": ["1", "2"]}),
    ("Observation", {"foo": "bar"}),
    ("Observation", {"_sort": "-date"}),
    ("Observation", {"_elements": "id"}),
    ("Observation", {"code:text": "sugar"}),
    ("Observation", {"patient:missing": "true"}),
    ("Observation", {"_cursor": "garbage"}),
    ("Observation", {"_summary": "true"}),
    ("Observation", {"_total": "maybe"}),
    ("Observation", {"_include": "Observation:subject"}),
    ("Observation", {"_include:iterate": "Encounter:participant"}),
    ("Observation", {"category": ""}),
    ("Observation", {"code": "|"}),
    ("Observation", {"code": "a\x00b"}),
    ("Observation", {"code": ",".join(["x"] * 101)}),
    ("Observation", {"code": "x" * 2000}),
    ("Observation", {"_type": "Condition"}),
    ("Patient", {"category": "laboratory"}),
    ("Encounter", {"_include": "Encounter:patient"}),
    ("Patient/$everything", {"_type": "Medication"}),
    ("Patient/$everything", {"category": "laboratory"}),
    ("Patient/$everything", {"_cursor": "gAAAAAB"}),
]


@pytest.mark.parametrize("path, params", BAD)
def test_bad_search_parameters_are_a_400_operation_outcome(api, path, params):
    response = api.get(path, params)
    assert response.status_code == 400, response.content
    outcome = json.loads(response.content)
    assert outcome["resourceType"] == "OperationOutcome"
    assert outcome["issue"][0]["severity"] == "error" and outcome["issue"][0]["diagnostics"]


def test_a_cursor_is_for_its_own_search_only(api, patient, provider):
    build_record(patient, provider, n=3)
    page = api.json("Observation", {"_count": "2"})
    cursor = [link["url"] for link in page["link"] if link["relation"] == "next"][0]
    token = cursor.split("_cursor=")[1]
    assert api.get("Condition", {"_cursor": token}).status_code == 400
    assert api.get("Patient/$everything", {"_cursor": token}).status_code == 400
    assert api.get("Observation", {"_cursor": token[:-4] + "AAAA"}).status_code == 400


NAMES = sorted(
    {name for t in TYPES.values() for name in t.params}
    | {"_count", "_cursor", "_include", "_summary", "_total", "_type", "_format", "foo", "date:x"}
)
VALUES = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["ge2024", "lt", "eq2024-02-29T24:00", "http://loinc.org|", "|", "\\,", ","]),
    st.from_regex(
        r"[a-z]{0,2}-?\d{1,5}(-\d{1,3}){0,2}(T\d\d:\d\d(:\d\d(\.\d{1,12})?)?)?", fullmatch=True
    ),
)


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    path=st.sampled_from([*TYPES, "Patient/$everything", "Observation/_search"]),
    params=st.lists(st.tuples(st.sampled_from(NAMES), VALUES), max_size=4),
)
def test_any_search_is_answered_or_refused_never_a_500(api, path, params):
    query = {}
    for name, value in params:
        query.setdefault(name, []).append(value)
    response = api.get(path, query)
    assert response.status_code in (200, 400, 406), (path, query, response.content)
    body = json.loads(response.content)
    assert body["resourceType"] == ("Bundle" if response.status_code == 200 else "OperationOutcome")


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(type_name=st.sampled_from(list(TYPES)), resource_id=st.text(min_size=1, max_size=70))
def test_any_read_is_answered_or_404_never_a_500(api, type_name, resource_id):
    from urllib.parse import quote

    response = api.client.get(
        f"/fhir/R4/{type_name}/{quote(resource_id, safe='')}",
        HTTP_AUTHORIZATION=f"Bearer {api.token}",
    )
    assert response.status_code in (200, 404), (type_name, resource_id)
    assert json.loads(response.content)["resourceType"] in (type_name, "OperationOutcome")
