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


def test_gunicorn_access_log_lines_carry_no_registration_token():
    import datetime as dt
    from types import SimpleNamespace

    from gunicorn.config import Config

    from portico.core.gunicorn_logging import RedactingLogger

    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": "/portal/register/Secret-Token_1/",
        "PATH_INFO": "/portal/register/Secret-Token_1/",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_REFERER": "http://x/portal/register/Secret-Token_1/account/",
        "QUERY_STRING": "",
        "REMOTE_ADDR": "127.0.0.1",
    }
    atoms = RedactingLogger(Config()).atoms(
        SimpleNamespace(status="200 OK", sent=10, headers=[]),
        SimpleNamespace(headers=[]),
        environ,
        dt.timedelta(milliseconds=3),
    )
    line = " ".join(str(v) for v in atoms.values())
    assert "Secret-Token_1" not in line
    assert atoms["r"] == "GET /portal/register/[redacted]/ HTTP/1.1"


def test_gunicorn_workers_freeze_what_they_loaded_out_of_the_collectors_way():
    """gunicorn.conf.py, as gunicorn reads it: after a worker loads Portico, its objects are in
    the permanent generation, which full collections skip."""
    import gc
    import runpy
    from pathlib import Path

    from gunicorn.config import Config

    config = Config()
    for name, value in runpy.run_path(str(Path(__file__).parents[2] / "gunicorn.conf.py")).items():
        if name in config.settings:
            config.set(name, value)
    assert config.logger_class.__name__ == "RedactingLogger"
    try:
        config.post_worker_init(None)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
