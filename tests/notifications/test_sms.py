"""The SMS backends: console, file, memory and the signed webhook (against a real HTTP server)."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.exceptions import ImproperlyConfigured

from portico.notifications import sms

SECRET = "shared-webhook-secret"  # noqa: S105 (test value)


class CarrierHandler(BaseHTTPRequestHandler):
    """A carrier's webhook: records each request and answers with the server's status."""

    def do_POST(self):  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append({"headers": dict(self.headers), "body": body})
        if self.server.delay:
            time.sleep(self.server.delay)
        self.send_response(self.server.status)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


@pytest.fixture
def carrier():
    server = ThreadingHTTPServer(("127.0.0.1", 0), CarrierHandler)
    server.received = []
    server.status = 202
    server.delay = 0
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def webhook(settings, carrier):
    settings.SMS_URL = f"http://127.0.0.1:{carrier.server_address[1]}/sms"
    settings.SMS_WEBHOOK_SECRET = SECRET
    settings.SMS_TIMEOUT = 2
    return carrier


def test_webhook_posts_json_signed_over_timestamp_and_body(webhook):
    message_id = sms.send_sms("+12025550123", "Your code is 123456")

    [request] = webhook.received
    body = request["body"]
    assert json.loads(body) == {
        "id": message_id,
        "to": "+12025550123",
        "text": "Your code is 123456",
    }
    timestamp = request["headers"]["X-Portico-Timestamp"]
    assert abs(int(timestamp) - time.time()) < 60
    expected = hmac.new(SECRET.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    assert request["headers"]["X-Portico-Signature"] == "sha256=" + expected.hexdigest()
    assert request["headers"]["Content-Type"] == "application/json"


def test_webhook_signature_does_not_verify_under_another_secret(webhook):
    sms.send_sms("+12025550123", "Your code is 123456")

    [request] = webhook.received
    timestamp = request["headers"]["X-Portico-Timestamp"]
    forged = sms.signature("some-other-secret", timestamp, request["body"])
    assert request["headers"]["X-Portico-Signature"] != forged


@pytest.mark.parametrize("status", [400, 401, 500, 503])
def test_webhook_answer_other_than_2xx_is_an_error(webhook, status):
    webhook.status = status

    with pytest.raises(sms.SmsError, match=str(status)):
        sms.send_sms("+12025550123", "Your code is 123456")


def test_webhook_that_does_not_answer_in_time_is_an_error(webhook, settings):
    settings.SMS_TIMEOUT = 0.3
    webhook.delay = 1.5

    with pytest.raises(sms.SmsError, match="unreachable"):
        sms.send_sms("+12025550123", "Your code is 123456")


def test_webhook_that_is_not_there_is_an_error(settings):
    from tests.smtp import free_port

    settings.SMS_URL = f"http://127.0.0.1:{free_port()}/sms"
    settings.SMS_WEBHOOK_SECRET = SECRET

    with pytest.raises(sms.SmsError):
        sms.send_sms("+12025550123", "Your code is 123456")


def test_webhook_without_a_secret_is_refused(settings):
    settings.SMS_URL = "https://carrier.example/sms"
    settings.SMS_WEBHOOK_SECRET = ""

    with pytest.raises(ImproperlyConfigured):
        sms.send_sms("+12025550123", "Your code is 123456")


def test_file_backend_appends_json_lines_newest_first_on_reading(settings, tmp_path):
    settings.SMS_URL = f"file://{tmp_path / 'sms'}"

    sms.send_sms("+12025550123", "first")
    sms.send_sms("+12025550188", "second")

    lines = (tmp_path / "sms" / "messages.jsonl").read_text().splitlines()
    assert [json.loads(line)["text"] for line in lines] == ["first", "second"]
    assert [m["to"] for m in sms.file_messages()] == ["+12025550188", "+12025550123"]


def test_console_backend_prints_the_text_and_only_the_last_two_digits():
    out = io.StringIO()

    sms.ConsoleBackend(stream=out).send("abc", "+12025550123", "Your code is 123456")

    assert out.getvalue() == "SMS abc to •••••••••23: Your code is 123456\n"


def test_the_log_line_holds_neither_the_text_nor_the_number(settings, caplog):
    settings.SMS_URL = "memory://"

    with caplog.at_level("INFO", logger="portico.notifications.sms"):
        sms.send_sms("+12025550123", "Your code is 123456")

    assert "123456" not in caplog.text
    assert "2025550123" not in caplog.text
    assert "••23" in caplog.text


def test_no_sms_url_means_no_sms(settings):
    settings.SMS_URL = ""

    assert not sms.sms_enabled()
    with pytest.raises(sms.SmsError):
        sms.send_sms("+12025550123", "Your code is 123456")


def test_unknown_scheme_is_a_configuration_error(settings):
    settings.SMS_URL = "carrier-pigeon://loft"

    with pytest.raises(ImproperlyConfigured):
        sms.send_sms("+12025550123", "hi")
