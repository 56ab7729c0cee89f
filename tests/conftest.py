import pytest

from portico.practices.models import Role
from tests import factories


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings, request):
    """Argon2 is deliberately slow; tests that check hashing itself opt out."""
    if "real_hashing" not in request.keywords:
        settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _immediate_tasks(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def practice(db):
    return factories.make_practice("Riverside Clinic")


@pytest.fixture
def other_practice(db):
    return factories.make_practice("Hilltop Medical")


@pytest.fixture
def admin(practice):
    return factories.make_admin(practice, full_name="Ada Admin")


@pytest.fixture
def staff(practice):
    return factories.make_staff(practice, full_name="Stan Staff")


@pytest.fixture
def provider(practice):
    return factories.make_staff(
        practice, role=Role.PROVIDER, credential="MD", full_name="Dr. Paula Provider"
    )


@pytest.fixture
def non_inviter(practice):
    return factories.make_staff(practice, may_invite=False, full_name="Nora Noinvite")


@pytest.fixture
def patient(practice):
    return factories.make_patient(practice)


@pytest.fixture
def outsider(other_practice):
    """Staff of another practice: must never reach this practice's charts."""
    return factories.make_admin(other_practice, full_name="Oscar Outsider")


@pytest.fixture
def send_email(django_capture_on_commit_callbacks):
    """Run what a transaction queues after commit (the enrollment email), as production does."""
    return django_capture_on_commit_callbacks(execute=True)


@pytest.fixture(autouse=True)
def _english_to_start():
    """Every test starts in the default language: a page requested in Spanish leaves its
    language active in the thread, which would otherwise change the messages of the services
    the next test calls directly (an order-dependent failure under pytest-xdist)."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _empty_cache():
    """Rate limits and record renderings live in caches; every test starts with them empty."""
    from django.core.cache import caches

    for cache in caches.all():
        cache.clear()


@pytest.fixture
def sms_outbox(settings):
    """Text messages sent through the memory:// SMS backend during the test."""
    from portico.notifications import sms

    settings.SMS_URL = "memory://"
    sms.outbox.clear()
    yield sms.outbox
    sms.outbox.clear()
