"""Gunicorn's access log without registration tokens.

Use with `gunicorn --logger-class portico.core.gunicorn_logging.RedactingLogger`
(`gunicorn.conf.py` at the top of the repository sets it for you).
"""

from gunicorn.glogging import Logger

from portico.core.logging import redact


class RedactingLogger(Logger):
    """Every access-log field (request line, path, referer, …) goes through the redaction."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        return {
            key: redact(value) if isinstance(value, str) else value for key, value in atoms.items()
        }
