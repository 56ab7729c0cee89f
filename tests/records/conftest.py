import pytest
from django.urls import reverse

from portico.portal.models import PortalAccess
from tests import factories
from tests.factories import sign_in


@pytest.fixture
def account(admin, patient):
    """The patient, registered with a new account."""
    return factories.enroll(admin, patient)


@pytest.fixture
def patient_client(client, account):
    sign_in(client, account)
    return client


def access_of(patient) -> PortalAccess:
    return PortalAccess.objects.get(patient=patient)


def record_url(patient, name: str = "records:record", *args) -> str:
    return reverse(name, args=[access_of(patient).public_id, *args])
