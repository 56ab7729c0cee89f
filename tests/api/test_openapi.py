"""The OpenAPI document is served, complete, and declares bearer authentication."""

import importlib
import pkgutil
import re
import uuid

import pytest
from django.urls import Resolver404, resolve

import portico.api
from portico.api.urls import api
from portico.core.views import api_not_found
from tests.api.conftest import registered_operations


@pytest.fixture
def schema(client, db):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json()


def documented_operations(schema) -> list[tuple[str, str]]:
    return sorted(
        (method, path.removeprefix("/api/v1"))
        for path, item in schema["paths"].items()
        for method in item
    )


def test_openapi_is_served_without_a_token(schema):
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "Portico practice API"


def test_openapi_lists_every_registered_operation(schema):
    assert documented_operations(schema) == registered_operations()


def test_every_documented_path_exists(schema):
    for path in schema["paths"]:
        concrete = re.sub(r"\{[a-z_]+_id\}", lambda _match: str(uuid.uuid4()), path)
        try:
            match = resolve(concrete)
        except Resolver404:  # pragma: no cover - the failure message is the point
            pytest.fail(f"{path} is documented but not routed")
        # Unknown API paths resolve too (to the JSON 404 catch-all), so that is not enough.
        assert match.func is not api_not_found, f"{path} is documented but not routed"


def test_openapi_declares_bearer_auth_on_every_operation(schema):
    schemes = schema["components"]["securitySchemes"]
    assert len(schemes) == 1
    ((name, scheme),) = schemes.items()
    assert scheme == {"type": "http", "scheme": "bearer"}
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            assert operation["security"] == [{name: []}], (method, path)


def test_openapi_documents_the_error_body(schema):
    error = schema["components"]["schemas"]["ErrorOut"]
    assert set(error["properties"]) == {"detail", "errors"}
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            by_id = "_id}" in path
            statuses = {"401", "422"} | ({"404"} if by_id else set())
            for status in statuses:
                ref = operation["responses"][status]["content"]["application/json"]["schema"]
                assert ref == {"$ref": "#/components/schemas/ErrorOut"}, (method, path, status)


def test_every_operation_has_a_unique_id_a_summary_and_its_responses(schema):
    ids = [op["operationId"] for item in schema["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            assert operation["summary"], (method, path)
            successes = [s for s in operation["responses"] if s.startswith("2")]
            assert successes, (method, path)
            for status, response in operation["responses"].items():
                assert response["description"], (method, path, status)


def test_openapi_describes_patient_input_strictly(schema):
    patient_in = schema["components"]["schemas"]["PatientIn"]
    assert set(patient_in["required"]) == {"legal_first_name", "legal_last_name", "date_of_birth"}
    assert patient_in["properties"]["legal_first_name"]["maxLength"] == 100
    assert patient_in["additionalProperties"] is False


# The operations the API has always offered: restructuring must keep every one of them.
OPERATIONS = [
    ("get", "/patients"),
    ("post", "/patients"),
    ("get", "/patients/{patient_id}"),
    ("get", "/patients/{patient_id}/portal"),
    ("post", "/patients/{patient_id}/portal/cancel"),
    ("post", "/patients/{patient_id}/portal/invite"),
    ("post", "/patients/{patient_id}/portal/resend"),
    ("post", "/patients/{patient_id}/portal/revoke"),
    ("get", "/settings/auto-invite"),
    ("put", "/settings/auto-invite"),
    ("get", "/settings/messaging"),
    ("put", "/settings/messaging"),
    ("get", "/messages/threads"),
    ("get", "/messages/threads/{thread_id}"),
    ("post", "/messages/threads/{thread_id}/replies"),
    ("put", "/messages/threads/{thread_id}/status"),
    ("put", "/messages/threads/{thread_id}/provider"),
    ("post", "/messages/threads/{thread_id}/file"),
    ("post", "/messages/threads/{thread_id}/renewal"),
    ("get", "/schedule/providers"),
    ("get", "/schedule/visit-types"),
    ("post", "/schedule/visit-types"),
    ("put", "/schedule/visit-types/{visit_type_id}"),
    ("get", "/schedule/locations"),
    ("post", "/schedule/locations"),
    ("put", "/schedule/locations/{location_id}"),
    ("get", "/schedule/providers/{provider_id}/hours"),
    ("put", "/schedule/providers/{provider_id}/hours"),
    ("get", "/schedule/blocked-times"),
    ("post", "/schedule/blocked-times"),
    ("delete", "/schedule/blocked-times/{blocked_time_id}"),
    ("get", "/schedule/providers/{provider_id}/open-times"),
    ("get", "/schedule/appointments"),
    ("post", "/schedule/appointments"),
    ("get", "/schedule/appointments/{appointment_id}"),
    ("post", "/schedule/appointments/{appointment_id}/move"),
    ("post", "/schedule/appointments/{appointment_id}/cancel"),
    ("post", "/schedule/appointments/{appointment_id}/status"),
    ("get", "/booking/profiles"),
    ("get", "/booking/profiles/{provider_id}"),
    ("put", "/booking/profiles/{provider_id}"),
    ("put", "/booking/profiles/{provider_id}/status"),
    ("put", "/booking/profiles/{provider_id}/npi-attestation"),
    ("get", "/booking/requests"),
    ("get", "/booking/requests/{request_id}"),
    ("post", "/booking/requests/{request_id}/approve"),
    ("post", "/booking/requests/{request_id}/deny"),
    ("post", "/booking/requests/{request_id}/propose"),
    ("get", "/patients/{patient_id}/representatives"),
    ("post", "/patients/{patient_id}/representatives"),
    ("get", "/representatives/{representative_id}"),
    ("put", "/representatives/{representative_id}"),
    ("post", "/representatives/{representative_id}/resend"),
    ("post", "/representatives/{representative_id}/reinvite"),
    ("post", "/representatives/{representative_id}/cancel"),
    ("post", "/representatives/{representative_id}/revoke"),
    ("get", "/intake/templates"),
    ("post", "/intake/templates"),
    ("get", "/intake/templates/{template_id}"),
    ("get", "/intake/forms"),
    ("get", "/intake/forms/{form_id}"),
    ("get", "/intake/forms/{form_id}/response"),
    ("post", "/intake/appointments/{appointment_id}/forms"),
]


def test_each_api_module_has_its_own_router_mounted_by_the_api(schema):
    mounted = [router for _prefix, router in api._routers]
    with_routes = []
    for info in pkgutil.iter_modules(portico.api.__path__):
        module = importlib.import_module(f"portico.api.{info.name}")
        router = getattr(module, "router", None)
        if router is not None:
            with_routes.append(info.name)
            assert mounted.count(router) == 1, info.name
    assert sorted(with_routes) == [
        "booking",
        "intake",
        "messages",
        "patients",
        "representatives",
        "scheduling",
        "settings",
    ]
    assert documented_operations(schema) == sorted(OPERATIONS)
