"""The JSON API under /api/v1/ (OpenAPI at /api/v1/openapi.json), for staff integrations."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import HttpBearer

from portico.accounts.services import api_token_authenticate
from portico.api import booking, intake, messages, patients, representatives, scheduling
from portico.api import settings as settings_routes
from portico.portal.services import InvalidTransition


class StaffToken(HttpBearer):
    """Authorization: Bearer pt_… — a staff API token, bound to one practice."""

    def authenticate(self, request, token):
        api_token = api_token_authenticate(token)
        if api_token is None:
            return None
        # The token, not a browser session that may ride along, decides who acts and where.
        request.user = api_token.user
        request.practice = api_token.practice
        request.membership = api_token.membership
        return api_token


api = NinjaAPI(
    title="Portico practice API",
    version="1",
    description="Practice-side operations: patients, portal enrollment, patient messages and "
    "the appointment book (schedules, visit types, open times, appointments), online profiles "
    "and appointment requests, and patients' representatives. "
    "Authenticate with a staff API token (profile page or `portico create_api_token`).",
    auth=StaffToken(),
    urls_namespace="api",
)
# One router per module, mounted at its prefix: /api/v1/patients…, /api/v1/settings/….
api.add_router("/patients", patients.router)
api.add_router("/settings", settings_routes.router)
api.add_router("/messages", messages.router)
api.add_router("/schedule", scheduling.router)
api.add_router("/booking", booking.router)
# A chart's representatives: /api/v1/patients/{id}/representatives and /api/v1/representatives/….
api.add_router("", representatives.router)
api.add_router("/intake", intake.router)


def _error(request, status: int, detail: str, errors: dict | None = None):
    return api.create_response(request, {"detail": detail, "errors": errors or {}}, status=status)


# pydantic's wording for the common cases, replaced by the words the pages use.
_MESSAGES = {
    "missing": "This field is required.",
    "extra_forbidden": "This field is not part of the request; check its name and nesting.",
    "model_attributes_type": "Send a JSON object.",
    "dict_type": "Send a JSON object.",
}


def _field_errors(items) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for item in items:
        # loc is e.g. ("body", "payload", "email") or ("path", "patient_id"): keep the field.
        loc = [str(p) for p in item.get("loc", ()) if p not in ("body", "payload", "query", "path")]
        message = _MESSAGES.get(item.get("type", ""), item.get("msg", "Invalid value."))
        message = message.removeprefix("Value error, ")
        if not loc and item.get("type") == "missing":
            message = "Send a JSON object."
        errors.setdefault(".".join(loc) or "body", []).append(message)
    return errors


@api.exception_handler(NinjaValidationError)
def on_invalid_body(request, exc):
    return _error(request, 422, "The request has invalid values.", _field_errors(exc.errors))


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
    response = _error(request, 401, "A valid staff API token is required.")
    response["WWW-Authenticate"] = 'Bearer realm="portico"'
    return response


@api.exception_handler(HttpError)
def on_http_error(request, exc):
    """ninja's own refusals; the one seen in practice is a body that is not JSON."""
    if exc.status_code == 400 and str(exc).startswith("Cannot parse request body"):
        message = "The request body is not valid JSON."
        return _error(request, 400, message, {"body": [message]})
    return _error(request, exc.status_code, str(exc))
