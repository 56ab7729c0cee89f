"""Text messages (SMS) through a small backend interface chosen by the `SMS_URL` setting.

- `console://` prints each message to standard output (development only; nothing goes
  through the logging system, whose lines may be collected elsewhere).
- `file:///path/to/folder` appends one JSON line per message to `messages.jsonl` in that
  folder (the demo uses `var/sms/` and shows them on the /dev/sms/ page).
- `memory://` keeps messages in `sms.outbox` (tests).
- An empty `SMS_URL` (the production default) means no SMS: the phone route is not offered.
- `https://carrier.example/hook` (or `http://` for a local relay) POSTs JSON
  `{"to": "+1…", "text": "…", "id": "…"}` to the URL. The request carries
  `X-Portico-Timestamp` (Unix seconds) and `X-Portico-Signature: sha256=<hex>`, the
  HMAC-SHA256 of `<timestamp>.<body>` under `SMS_WEBHOOK_SECRET`, so the receiver can check
  who sent it and refuse replays. Any answer other than 2xx, or no answer within
  `SMS_TIMEOUT` seconds, raises `SmsError`.

Texts must hold no health data: callers send a code and the practice's portal name only.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Portico-Signature"
TIMESTAMP_HEADER = "X-Portico-Timestamp"
FILE_NAME = "messages.jsonl"


class SmsError(Exception):
    """The message could not be handed to the carrier."""


def masked_number(e164: str) -> str:
    """A phone number with all but its last two digits hidden, e.g. "••••••••23"."""
    digits = "".join(ch for ch in e164 or "" if ch.isdigit())
    return "•" * max(len(digits) - 2, 0) + digits[-2:]


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The webhook signature: hex HMAC-SHA256 of "<timestamp>.<body>" under the secret."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


class ConsoleBackend:
    def __init__(self, stream=None):
        self.stream = stream

    def send(self, message_id: str, to_e164: str, text: str) -> None:
        stream = self.stream or sys.stdout
        stream.write(f"SMS {message_id} to {masked_number(to_e164)}: {text}\n")
        stream.flush()


# Messages sent through the memory:// backend, newest last (tests read and clear it).
outbox: list[dict] = []


class MemoryBackend:
    def send(self, message_id: str, to_e164: str, text: str) -> None:
        outbox.append({"id": message_id, "to": to_e164, "text": text})


class FileBackend:
    def __init__(self, folder: Path):
        self.folder = folder

    def send(self, message_id: str, to_e164: str, text: str) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        line = json.dumps(
            {"id": message_id, "to": to_e164, "text": text, "sent_at": timezone.now().isoformat()}
        )
        with open(self.folder / FILE_NAME, "a", encoding="utf-8") as out:
            out.write(line + "\n")


class WebhookBackend:
    def __init__(self, url: str, secret: str, timeout: float):
        if not secret:
            raise ImproperlyConfigured("SMS_WEBHOOK_SECRET must be set for a webhook SMS_URL.")
        self.url = url
        self.secret = secret
        self.timeout = timeout

    def send(self, message_id: str, to_e164: str, text: str) -> None:
        body = json.dumps({"id": message_id, "to": to_e164, "text": text}).encode()
        timestamp = str(int(time.time()))
        request = urllib.request.Request(  # noqa: S310 (the scheme is checked in backend_for)
            self.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                TIMESTAMP_HEADER: timestamp,
                SIGNATURE_HEADER: signature(self.secret, timestamp, body),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                status = response.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise SmsError(f"SMS webhook unreachable: {type(exc).__name__}") from exc
        if not 200 <= status < 300:
            raise SmsError(f"SMS webhook answered {status}")


def backend_for(url: str):
    """The backend an `SMS_URL` names."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "console":
        return ConsoleBackend()
    if scheme == "memory":
        return MemoryBackend()
    if scheme == "file":
        path = unquote(parts.path)
        if not path:
            raise ImproperlyConfigured("SMS_URL file:// needs a folder, e.g. file:///var/sms")
        return FileBackend(Path(path))
    if scheme in ("http", "https"):
        return WebhookBackend(url, settings.SMS_WEBHOOK_SECRET, settings.SMS_TIMEOUT)
    raise ImproperlyConfigured(
        f"SMS_URL scheme must be console, file, memory, http or https, not {scheme!r}"
    )


def sms_enabled() -> bool:
    return bool(settings.SMS_URL)


def send_sms(to_e164: str, text: str) -> str:
    """Send one text message; returns its id. Raises SmsError when it could not be sent."""
    if not sms_enabled():
        raise SmsError("SMS is not configured (SMS_URL is empty)")
    message_id = uuid.uuid4().hex
    backend_for(settings.SMS_URL).send(message_id, to_e164, text)
    # The id and the masked number only: never the text (it holds a code) or the number.
    logger.info("sms %s handed over for %s", message_id, masked_number(to_e164))
    return message_id


def file_messages(limit: int = 200) -> list[dict]:
    """The newest messages of a file:// backend first (for the demo's /dev/sms/ page)."""
    url = settings.SMS_URL
    if urlsplit(url).scheme.lower() != "file":
        return []
    path = Path(unquote(urlsplit(url).path)) / FILE_NAME
    if not path.exists():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            rows.append(json.loads(line))
        except ValueError:
            continue
    return list(reversed(rows))[:limit]
