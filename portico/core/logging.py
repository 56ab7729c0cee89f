"""Logging filters that keep secrets out of log lines."""

from __future__ import annotations

import logging
import re

# Registration, password reset and sent record links carry a secret token in the path.
_TOKEN_IN_PATH = re.compile(r"(/portal/register/|/accounts/password/reset/|/shared/)[^/\s\"']+")


def redact(text: str) -> str:
    return _TOKEN_IN_PATH.sub(r"\1[redacted]", text)


class RedactSecretsFilter(logging.Filter):
    """Replace registration tokens in request paths before any handler writes the line."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg = cleaned
            record.args = ()
        return True
