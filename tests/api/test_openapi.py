"""The OpenAPI document is served, complete, and declares bearer authentication."""

import uuid

import pytest
from django.urls import Resolver404, resolve

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
        concrete = path.replace("{patient_id}", str(uuid.uuid4()))
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
            statuses = {"401", "422"} | ({"404"} if "{patient_id}" in path else set())
            for status in statuses:
                ref = operation["responses"][status]["content"]["application/json"]["schema"]
                assert ref == {"$ref": "#/components/schemas/ErrorOut"}, (method, path, status)


def test_openapi_describes_patient_input_strictly(schema):
    patient_in = schema["components"]["schemas"]["PatientIn"]
    assert set(patient_in["required"]) == {"legal_first_name", "legal_last_name", "date_of_birth"}
    assert patient_in["properties"]["legal_first_name"]["maxLength"] == 100
    assert patient_in["additionalProperties"] is False
