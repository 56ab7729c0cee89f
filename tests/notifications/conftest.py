import pytest

from tests.smtp import django_sends_to_it


@pytest.fixture
def smtp(settings):
    """A real local SMTP server (aiosmtpd) that Django's SMTP backend sends to."""
    with django_sends_to_it(settings) as server:
        yield server
