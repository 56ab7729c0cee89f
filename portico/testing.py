"""pytest plugin loaded early (see pyproject's addopts): test defaults for settings.

pytest-django reads settings before any conftest.py is imported, so the defaults
for a test run have to be in place this early. Explicit environment values win,
which is how `make test-postgres` points the same suite at PostgreSQL.
"""

import os
import tempfile

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production")
os.environ.setdefault("PORTICO_TASKS_BACKEND", "immediate")
os.environ.setdefault("EMAIL_URL", "locmem://")
os.environ.setdefault("PORTICO_BASE_URL", "http://testserver")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
os.environ.setdefault("PORTICO_VAR_DIR", os.path.join(tempfile.gettempdir(), "portico-test-var"))
os.environ.setdefault("SMS_URL", "memory://")
