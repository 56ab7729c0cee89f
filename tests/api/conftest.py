"""Helpers for the JSON API tests: a client that sends a staff token, and a snapshot of rows."""

from __future__ import annotations

import json

import pytest

from portico.accounts.models import ApiToken
from portico.accounts.services import api_token_create
from portico.api.urls import api
from portico.audit.models import AuditEvent
from portico.charts.models import Patient
from portico.notifications.models import OutboundEmail
from portico.portal.models import Invitation, PortalAccess

API = "/api/v1"


class ApiClient:
    """Django's test client speaking JSON to /api/v1/ with `Authorization: Bearer <key>`."""

    def __init__(self, client, key: str | None, authorization: str | None = None):
        self.client = client
        self.authorization = authorization if authorization is not None else f"Bearer {key}"

    def _headers(self) -> dict:
        return {"HTTP_AUTHORIZATION": self.authorization} if self.authorization else {}

    def get(self, path: str, params: dict | None = None):
        return self.client.get(API + path, params or {}, **self._headers())

    def post(self, path: str, body=None, *, raw: str | bytes | None = None):
        data = raw if raw is not None else ("" if body is None else json.dumps(body))
        return self.client.post(
            API + path, data, content_type="application/json", **self._headers()
        )

    def call(self, method: str, path: str, body=None):
        if method == "get":
            return self.get(path)
        return getattr(self.client, method)(
            API + path,
            "" if body is None else json.dumps(body),
            content_type="application/json",
            **self._headers(),
        )


def token_key(user, practice, name: str = "integration") -> str:
    _token, key = api_token_create(user, practice=practice, name=name)
    return key


@pytest.fixture
def api_as(client):
    """api_as(user, practice) → an ApiClient with a fresh token of that user at that practice."""

    def make(user, practice) -> ApiClient:
        return ApiClient(client, token_key(user, practice))

    return make


@pytest.fixture
def admin_api(api_as, admin, practice):
    return api_as(admin, practice)


def snapshot() -> dict:
    """Everything an API call could change, to prove that a refused call changed nothing."""
    return {
        "patients": sorted(
            Patient.objects.values_list(
                "public_id", "legal_first_name", "legal_last_name", "email", "mobile_phone"
            )
        ),
        "access": sorted(PortalAccess.objects.values_list("patient_id", "state", "account_id")),
        "invitations": sorted(Invitation.objects.values_list("public_id", "status", "access_code")),
        "audit": AuditEvent.objects.count(),
        "emails": OutboundEmail.objects.count(),
        "tokens": sorted(ApiToken.objects.values_list("public_id", "revoked_at")),
    }


def assert_error_body(response, status: int) -> dict:
    """Every refusal has the same shape: {"detail": "...", "errors": {field: [...]}}."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"detail", "errors"}
    assert isinstance(body["detail"], str) and body["detail"]
    assert isinstance(body["errors"], dict)
    for messages in body["errors"].values():
        assert messages and all(isinstance(m, str) and m for m in messages)
    return body


def registered_operations() -> list[tuple[str, str]]:
    """(method, path) of every operation registered on the API, relative to /api/v1."""
    operations = []
    for prefix, router in api._routers:
        for route, path_view in router.path_operations.items():
            for operation in path_view.operations:
                for method in operation.methods:
                    path = "/" + "/".join(p.strip("/") for p in (prefix, route) if p.strip("/"))
                    operations.append((method.lower(), path))
    return sorted(operations)
