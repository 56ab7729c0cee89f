"""The FHIR server's protocol (SPEC §11.1): the CapabilityStatement and the routes it
describes, formats, methods, tokens and their scopes, the audit of every read, CORS."""

from __future__ import annotations

import json
import uuid

import pytest
from django.test import Client
from django.urls import resolve, reverse
from fhir.resources.R4B.capabilitystatement import CapabilityStatement

from portico.audit.models import AuditEvent
from portico.fhir import scopes as smart_scopes
from portico.fhir import services
from portico.fhir import urls as fhir_urls
from portico.fhir.server import views
from portico.fhir.server.resources import TYPES
from portico.fhir.server.search import EVERYTHING_PARAMS, RESULT_PARAMS
from tests.fhir.conftest import connect_app
from tests.fhir.server_support import App, build_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(app, account, patient, provider) -> App:
    build_record(patient, provider, n=1)
    return App(connect_app(app, account)["access_token"])


def capability() -> dict:
    response = Client().get("/fhir/R4/metadata")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/fhir+json")
    return json.loads(response.content)


# -- the CapabilityStatement matches the routes --------------------------------------------------


def test_capability_statement_is_public_and_valid_r4():
    data = capability()
    CapabilityStatement.model_validate(data)
    assert data["fhirVersion"] == "4.0.1" and data["kind"] == "instance"


def test_capability_statement_lists_exactly_the_types_the_routes_serve():
    listed = [r["type"] for r in capability()["rest"][0]["resource"]]
    assert listed == list(TYPES) == list(smart_scopes.RESOURCE_TYPES)
    some_id = str(uuid.uuid4())
    for name in listed:
        assert resolve(f"/fhir/R4/{name}").func is views.search_type
        assert resolve(f"/fhir/R4/{name}/_search").func is views.search_post
        assert resolve(f"/fhir/R4/{name}/{some_id}").func is views.read
    for not_served in ("Medication", "Goal", "Binary", "Device", "Provenance", "patient"):
        assert resolve(f"/fhir/R4/{not_served}").func is views.unknown
        assert resolve(f"/fhir/R4/{not_served}/{some_id}").func is views.unknown


def test_capability_statement_lists_the_interactions_and_operation_the_routes_have():
    resources = {r["type"]: r for r in capability()["rest"][0]["resource"]}
    for name, resource in resources.items():
        assert [i["code"] for i in resource["interaction"]] == ["read", "search-type"]
        operations = [op["name"] for op in resource.get("operation", [])]
        assert operations == (["everything"] if name == "Patient" else [])
    assert resolve("/fhir/R4/Patient/$everything").func is views.everything
    assert resolve(f"/fhir/R4/Patient/{uuid.uuid4()}/$everything").func is views.everything
    # Every route of the server is one of those (or discovery, or the catch-all).
    names = {p.name for p in fhir_urls.urlpatterns}
    assert names == {
        "smart_configuration",
        "metadata",
        "everything",
        "everything_instance",
        "search_post",
        "read",
        "search",
        "unknown",
    }


def test_every_listed_search_parameter_and_include_is_accepted_and_nothing_else(api, patient):
    samples = {"token": "x", "date": "ge2000", "reference": f"Patient/{patient.public_id}"}
    for resource in capability()["rest"][0]["resource"]:
        name = resource["type"]
        for param in resource["searchParam"]:
            response = api.get(name, {param["name"]: samples[param["type"]]})
            assert response.status_code == 200, (name, param, response.content)
        for include in resource.get("searchInclude", []):
            assert api.get(name, {"_include": include}).status_code == 200
        assert api.get(name, {"_include": f"{name}:nothing"}).status_code == 400
        for result_param in ("_count", "_total", "_summary"):
            assert result_param in RESULT_PARAMS
        assert api.get(name, {"no-such-parameter": "1"}).status_code == 400
    assert api.get("Patient/$everything", {"_type": "Observation"}).status_code == 200
    assert "_type" in EVERYTHING_PARAMS


def test_capability_statement_lists_each_types_parameters_and_includes_from_the_table():
    for resource in capability()["rest"][0]["resource"]:
        rtype = TYPES[resource["type"]]
        assert [p["name"] for p in resource["searchParam"]] == list(rtype.params)
        assert resource.get("searchInclude", []) == list(rtype.includes)


def test_capability_statement_has_the_smart_security_extension_and_service():
    security = capability()["rest"][0]["security"]
    assert security["service"][0]["coding"][0]["code"] == "SMART-on-FHIR"
    (oauth,) = security["extension"]
    assert oauth["url"].endswith("/oauth-uris")
    uris = {e["url"]: e["valueUri"] for e in oauth["extension"]}
    base = "http://testserver"
    assert uris == {
        "authorize": base + reverse("oauth2_provider:authorize"),
        "token": base + reverse("oauth2_provider:token"),
        "revoke": base + reverse("oauth2_provider:revoke-token"),
    }


def test_date_parameters_say_which_prefixes_are_supported():
    for resource in capability()["rest"][0]["resource"]:
        for param in resource["searchParam"]:
            if param["type"] == "date":
                assert "not ap" in param["documentation"]


# -- formats, methods, unknown paths ------------------------------------------------------------


@pytest.mark.parametrize(
    "params, headers, status",
    [
        ({}, {}, 200),
        ({"_format": "json"}, {}, 200),
        ({"_format": "application/fhir+json"}, {}, 200),
        ({}, {"HTTP_ACCEPT": "application/fhir+json"}, 200),
        ({}, {"HTTP_ACCEPT": "application/json"}, 200),
        ({}, {"HTTP_ACCEPT": "text/html,application/xhtml+xml,*/*;q=0.8"}, 200),
        ({"_format": "xml"}, {}, 406),
        ({"_format": "application/fhir+xml"}, {}, 406),
        ({}, {"HTTP_ACCEPT": "application/fhir+xml"}, 406),
        ({}, {"HTTP_ACCEPT": "application/fhir+json;q=0"}, 406),
    ],
)
def test_answers_in_json_only_other_formats_are_406(api, params, headers, status):
    response = api.get("Observation", params, **headers)
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/fhir+json")
    if status != 200:
        assert json.loads(response.content)["resourceType"] == "OperationOutcome"


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_writes_are_405_operation_outcomes(api, patient, method):
    for path in ("Observation", f"Patient/{patient.public_id}", "metadata"):
        if method == "post" and path == "Observation":
            response = api.client.post("/fhir/R4/Observation", "{}", "application/fhir+json")
        else:
            response = getattr(api.client, method)(f"/fhir/R4/{path}")
        assert response.status_code == 405, (method, path)
        assert json.loads(response.content)["resourceType"] == "OperationOutcome"
        assert "GET" in response["Allow"]


def test_an_unknown_type_or_path_is_a_404_operation_outcome(api):
    odd = ("Patient/%2F%0A", "Observation/a%0Ab/c")  # new lines in the path, decoded
    for path in ("Medication", "Medication/1", "", "Patient/1/_history", "Observation/x/y", *odd):
        response = api.get(path)
        assert response.status_code == 404, path
        assert json.loads(response.content)["issue"][0]["code"] == "not-supported"


# -- tokens and scopes --------------------------------------------------------------------------


def test_without_a_valid_token_every_data_route_is_401(patient):
    anonymous = Client()
    for path in ("Patient", f"Patient/{patient.public_id}", "Patient/$everything"):
        response = anonymous.get(f"/fhir/R4/{path}")
        assert response.status_code == 401
        assert response["WWW-Authenticate"].startswith("Bearer")
        assert json.loads(response.content)["resourceType"] == "OperationOutcome"
    wrong = App("not-a-token").get("Observation")
    assert wrong.status_code == 401


def test_scope_narrowing_only_observation_reads_observations(app, account, patient, provider):
    build_record(patient, provider, n=1)
    narrow = App(
        connect_app(app, account, scope="launch/patient patient/Observation.rs")["access_token"]
    )
    assert narrow.get("Observation").status_code == 200
    for path in ("Patient", f"Patient/{patient.public_id}", "Condition", "Patient/$everything"):
        response = narrow.get(path)
        assert response.status_code == 403, path
        assert json.loads(response.content)["issue"][0]["code"] == "forbidden"


def test_everything_holds_only_the_types_the_scopes_cover(app, account, patient, provider):
    build_record(patient, provider, n=1)
    scope = "launch/patient patient/Patient.r patient/Observation.rs"
    api = App(connect_app(app, account, scope=scope)["access_token"])
    kinds = {r["resourceType"] for r in api.everything_in("Patient/$everything")}
    assert kinds == {"Patient", "Observation"}


def test_read_only_and_search_only_scopes(app, account, patient, provider):
    build_record(patient, provider, n=1)
    api = App(connect_app(app, account, scope="launch/patient patient/Patient.r")["access_token"])
    assert api.get(f"Patient/{patient.public_id}").status_code == 200
    assert api.get("Patient").status_code == 403
    search_only = App(connect_app(app, account, scope="patient/Condition.s")["access_token"])
    assert search_only.get("Condition").status_code == 200
    condition_id = search_only.json("Condition")["entry"][0]["resource"]["id"]
    assert search_only.get(f"Condition/{condition_id}").status_code == 403


def test_includes_leave_out_types_the_scopes_do_not_cover(app, account, patient, provider):
    build_record(patient, provider, n=1)
    api = App(connect_app(app, account, scope="patient/Encounter.rs")["access_token"])
    bundle = api.json("Encounter", {"_include": "Encounter:participant"})
    assert {e["search"]["mode"] for e in bundle["entry"]} == {"match"}


def test_a_disconnected_app_reads_nothing(app, account):
    from portico.fhir.models import AppConnection

    api = App(connect_app(app, account)["access_token"])
    assert api.get("Patient").status_code == 200
    services.disconnect(account, AppConnection.objects.get())
    assert api.get("Patient").status_code == 401


# -- one audit row per request, naming the app --------------------------------------------------


def _reads():
    return AuditEvent.objects.filter(action="phr.app_read").order_by("id")


@pytest.mark.parametrize(
    "path, params, what",
    [
        ("Observation", {"_count": "2"}, "Observation search"),
        ("Observation", {"_summary": "count"}, "Observation search"),
        ("Condition/_search", {}, "Condition search"),
        ("Patient/$everything", {"_count": "5"}, "Patient $everything"),
        ("Organization", {}, "Organization search"),
    ],
)
def test_every_read_writes_one_audit_row_naming_the_app(api, patient, path, params, what):
    before = _reads().count()
    response = api.get(path, params)
    assert response.status_code == 200
    rows = list(_reads())[before:]
    assert len(rows) == 1
    (row,) = rows
    assert row.patient_id == patient.pk
    assert row.details["app"] == "Health Tracker" and row.details["what"] == what


def test_a_resource_read_and_a_404_each_write_one_row(api, patient):
    before = _reads().count()
    assert api.get(f"Patient/{patient.public_id}").status_code == 200
    assert api.get(f"Condition/{uuid.uuid4()}").status_code == 404
    rows = list(_reads())[before:]
    assert [(r.details["what"], r.details["count"]) for r in rows] == [
        ("Patient read", 1),
        ("Condition read", 0),
    ]


def test_refused_requests_write_no_read_row(api):
    before = _reads().count()
    assert api.get("Observation", {"date": "tomorrow"}).status_code == 400
    assert api.get("Observation", {"_format": "xml"}).status_code == 406
    assert App("nope").get("Observation").status_code == 401
    assert _reads().count() == before


def test_the_audit_row_is_written_before_the_answer_leaves(api, monkeypatch):
    def broken_audit(*args, **kwargs):
        raise RuntimeError("audit store down")

    monkeypatch.setattr(services, "app_read", broken_audit)
    with pytest.raises(RuntimeError, match="audit store down"):
        api.get("Observation")


def test_a_representatives_app_read_is_audited_with_the_relationship(app, admin, patient):
    from tests import factories

    rep_account, representative = factories.enroll_representative(admin, patient)
    api = App(connect_app(app, rep_account, access=representative)["access_token"])
    assert api.get("Patient").status_code == 200
    row = _reads().last()
    assert row.actor_id == rep_account.pk and row.acting_as == "parent"
    assert row.details["app"] == "Health Tracker"


# -- CORS: on the FHIR server, nowhere else ------------------------------------------------------


def test_a_browser_apps_preflight_is_answered_on_fhir():
    response = Client().options(
        "/fhir/R4/Observation",
        HTTP_ORIGIN="https://app.example",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization",
    )
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "authorization" in response["Access-Control-Allow-Headers"].lower()


def test_cors_answers_on_fhir_and_not_on_portal_pages(api):
    origin = {"HTTP_ORIGIN": "https://app.example"}
    assert api.get("Patient", **origin)["Access-Control-Allow-Origin"] == "*"
    assert Client().get("/fhir/R4/metadata", **origin)["Access-Control-Allow-Origin"] == "*"
    for page in ("/system-requirements/", "/accounts/sign-in/", "/api/v1/openapi.json"):
        response = Client().get(page, **origin)
        assert "Access-Control-Allow-Origin" not in response, page
