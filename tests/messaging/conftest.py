import pytest

from portico.portal.models import PortalAccess
from portico.practices import services as practice_services
from tests import factories


@pytest.fixture
def messaging_on(practice, admin):
    practice_services.messaging_settings_set(admin, practice=practice, enabled=True)
    return practice


@pytest.fixture
def enrolled(admin, patient):
    """(account, access) of the patient, enrolled in the portal."""
    account = factories.enroll(admin, patient)
    return account, PortalAccess.objects.get(patient=patient)


@pytest.fixture
def saved_files(monkeypatch):
    """The names the attachments storage saved files under during the test (to check what a
    send left behind: `storage.exists(name)`)."""
    from portico.messaging.models import Attachment

    storage = Attachment._meta.get_field("file").storage
    names: list[str] = []
    original = storage.save

    def save(name, content, max_length=None):
        saved = original(name, content, max_length=max_length)
        names.append(saved)
        return saved

    monkeypatch.setattr(storage, "save", save)
    return names
