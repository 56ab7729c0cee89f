import re

import pytest
from django.core import mail


@pytest.fixture
def emailed(django_capture_on_commit_callbacks):
    """Run a request and return the sign-in codes emailed during it."""

    def run(request, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            response = request(*args, **kwargs)
        codes = [re.search(r"\b(\d{6})\b", m.body).group(1) for m in mail.outbox]
        mail.outbox.clear()
        return response, codes

    return run
