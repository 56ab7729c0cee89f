import pytest

from tests.smtp import SmtpServer


@pytest.fixture
def smtp(settings):
    """A real local SMTP server (aiosmtpd) that Django's SMTP backend sends to."""
    with SmtpServer() as server:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_PORT = server.port
        settings.EMAIL_USE_TLS = False
        settings.EMAIL_TIMEOUT = 5
        yield server
