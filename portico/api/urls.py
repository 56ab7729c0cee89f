"""The JSON API under /api/v1/ (OpenAPI at /api/v1/openapi.json), for staff integrations."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from ninja import NinjaAPI
from ninja.errors import AuthenticationError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import HttpBearer

from portico.accounts.services import api_token_authenticate
from portico.portal.services import InvalidTransition


class StaffToken(HttpBearer):
    """Authorization: Bearer pt_… — a staff API token, bound to one practice."""

    def authenticate(self, request, token):
        api_token = api_token_authenticate(token)
        if api_token is None:
            return None
        request.user = api_token.user
        request.practice = api_token.practice
        return api_token


api = NinjaAPI(
    title="Portico practice API",
    version="1",
    description="Practice-side operations: patients and portal enrollment. "
    "Authenticate with a staff API token (profile page or `portico create_api_token`).",
    auth=StaffToken(),
    urls_namespace="api",
)


def _error(request, status: int, detail: str, errors: dict | None = None):
    return api.create_response(request, {"detail": detail, "errors": errors or {}}, status=status)


@api.exception_handler(NinjaValidationError)
def on_invalid_body(request, exc):
    errors: dict[str, list[str]] = {}
    for item in exc.errors:
        loc = [str(p) for p in item.get("loc", []) if p not in ("body", "payload", "query")]
        errors.setdefault(".".join(loc) or "body", []).append(item.get("msg", "Invalid value."))
    return _error(request, 422, "The request has invalid values.", errors)


@api.exception_handler(ValidationError)
def on_service_validation(request, exc):
    errors = exc.message_dict if hasattr(exc, "error_dict") else {"body": exc.messages}
    return _error(request, 422, "The request has invalid values.", errors)


@api.exception_handler(PermissionDenied)
def on_forbidden(request, exc):
    return _error(request, 403, str(exc) or "You do not have permission to do that.")


@api.exception_handler(Http404)
def on_not_found(request, exc):
    return _error(request, 404, "Not found.")


@api.exception_handler(InvalidTransition)
def on_conflict(request, exc):
    return _error(request, 409, exc.message)


@api.exception_handler(AuthenticationError)
def on_unauthenticated(request, exc):
    return _error(request, 401, "A valid staff API token is required.")


from portico.api import patients  # noqa: E402,F401  (registers the routes)
