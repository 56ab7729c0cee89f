"""Auto-invite needs a text-message backend (SMS_URL): auto-invited patients verify with a
security code sent by text message (SPEC §5.1). The rule for the switch lives in
`practices.services.auto_invite_set`; the pages and the API call it."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from portico.audit.models import AuditEvent
from portico.practices.models import Practice
from portico.practices.services import (
    AUTO_INVITE_NEEDS_SMS_MESSAGE,
    auto_invite_set,
    auto_invite_stopped_reason,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def no_sms_backend(settings):
    settings.SMS_URL = ""


def enabled(practice) -> bool:
    return Practice.objects.get(pk=practice.pk).auto_invite_enabled


def test_auto_invite_cannot_be_turned_on_without_a_text_message_backend(
    admin, practice, no_sms_backend
):
    with pytest.raises(ValidationError) as refused:
        auto_invite_set(admin, practice=practice, enabled=True)
    assert refused.value.message_dict == {"enabled": [AUTO_INVITE_NEEDS_SMS_MESSAGE]}
    assert "SMS_URL" in AUTO_INVITE_NEEDS_SMS_MESSAGE
    assert not enabled(practice) and not practice.auto_invite_enabled
    assert not AuditEvent.objects.filter(action="settings.auto_invite").exists()


def test_auto_invite_can_be_turned_off_without_a_text_message_backend(admin, practice, settings):
    auto_invite_set(admin, practice=practice, enabled=True)
    settings.SMS_URL = ""  # the backend goes away later

    assert auto_invite_set(admin, practice=practice, enabled=False) is True
    assert not enabled(practice)
    assert AuditEvent.objects.filter(action="settings.auto_invite").count() == 2


def test_a_practice_whose_backend_went_away_stays_on_but_paused(admin, practice, settings):
    auto_invite_set(admin, practice=practice, enabled=True)
    assert auto_invite_stopped_reason(practice) is None
    settings.SMS_URL = ""

    assert auto_invite_stopped_reason(practice) == "no_sms_backend"
    # Saying "on" again is refused with the reason; the setting stays as it was.
    with pytest.raises(ValidationError):
        auto_invite_set(admin, practice=practice, enabled=True)
    assert enabled(practice)


def test_auto_invite_is_stopped_when_off_whatever_the_backend(practice, settings):
    assert auto_invite_stopped_reason(practice) == "auto_invite_off"
    settings.SMS_URL = ""
    assert auto_invite_stopped_reason(practice) == "auto_invite_off"


def test_other_staff_are_refused_before_the_backend_is_looked_at(staff, practice, no_sms_backend):
    with pytest.raises(PermissionDenied):
        auto_invite_set(staff, practice=practice, enabled=True)
