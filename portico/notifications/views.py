"""The bounce webhook: a mail provider reports messages that bounced after it accepted them.

POST /hooks/email/bounces, no session. The body is a JSON list of
{"message_id": "<...@...>", "status": "bounced", "diagnostic": "550 5.1.1 ..."}.
Headers: X-Portico-Timestamp (Unix seconds) and X-Portico-Signature: sha256=<hex>, the
HMAC-SHA256 of "<timestamp>.<raw body>" with PORTICO_BOUNCE_WEBHOOK_SECRET. A signature older
than PORTICO_BOUNCE_WEBHOOK_TOLERANCE_SECONDS (300) is refused, so a captured request cannot be
replayed later; within that time a replay changes nothing (marking bounced is idempotent).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time

from django.conf import settings
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from portico.notifications.services import email_bounces_record

SIGNATURE_HEADER = "X-Portico-Signature"
TIMESTAMP_HEADER = "X-Portico-Timestamp"


def bounce_signature(secret: str, timestamp: str, body: bytes) -> str:
    """The signature a sender puts in X-Portico-Signature."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def _signed(request) -> bool:
    secret = getattr(settings, "PORTICO_BOUNCE_WEBHOOK_SECRET", "")
    timestamp = request.headers.get(TIMESTAMP_HEADER, "")
    signature = request.headers.get(SIGNATURE_HEADER, "")
    if not (secret and timestamp.isdigit() and signature):
        return False
    tolerance = getattr(settings, "PORTICO_BOUNCE_WEBHOOK_TOLERANCE_SECONDS", 300)
    if abs(time.time() - int(timestamp)) > tolerance:
        return False
    expected = bounce_signature(secret, timestamp, request.body)
    return hmac.compare_digest(expected.encode(), signature.encode())


def _error(status: int, detail: str, errors: dict | None = None) -> JsonResponse:
    return JsonResponse({"detail": detail, "errors": errors or {}}, status=status)


def _reports(body: bytes) -> tuple[list[dict] | None, dict]:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None, {"body": "Not valid JSON."}
    if not isinstance(data, list):
        return None, {"body": "Expected a JSON list of bounce reports."}
    errors = {}
    for index, item in enumerate(data):
        if not isinstance(item, dict):
            errors[str(index)] = "Expected an object."
        elif not isinstance(item.get("message_id"), str) or not item["message_id"].strip():
            errors[f"{index}.message_id"] = "A message_id string is required."
        elif not isinstance(item.get("status", ""), str):
            errors[f"{index}.status"] = "status must be a string."
        elif not isinstance(item.get("diagnostic", ""), str | None):
            errors[f"{index}.diagnostic"] = "diagnostic must be a string."
    return (None, errors) if errors else (data, {})


@csrf_exempt
@require_POST
def bounces(request):
    """Mark reported messages bounced. 401 without a valid fresh signature, 400 on bad JSON."""
    if not _signed(request):
        return _error(401, "Missing, wrong or expired signature.")
    reports, errors = _reports(request.body)
    if reports is None:
        return _error(400, "The body is not a list of bounce reports.", errors)
    return JsonResponse(email_bounces_record(reports))
