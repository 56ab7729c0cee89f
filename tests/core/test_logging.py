"""Secrets stay out of log lines."""

import logging

from portico.core.logging import RedactSecretsFilter


def test_registration_tokens_are_redacted_from_request_log_lines():
    record = logging.LogRecord(
        "django.request",
        logging.WARNING,
        __file__,
        1,
        "Gone: %s",
        ("/portal/register/AbC-123_secretToken/",),
        None,
    )
    RedactSecretsFilter().filter(record)
    assert record.getMessage() == "Gone: /portal/register/[redacted]/"
    assert "secretToken" not in record.getMessage()


def test_other_log_lines_are_left_alone():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "Task %s done", ("abc",), None)
    RedactSecretsFilter().filter(record)
    assert record.getMessage() == "Task abc done"
