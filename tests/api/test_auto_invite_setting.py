"""GET/PUT /api/v1/settings/auto-invite: the same switch as the settings page, admins only."""

import pytest

from portico.audit.models import AuditEvent
from portico.practices.models import Practice
from portico.practices.services import AUTO_INVITE_NEEDS_SMS_MESSAGE
from tests.api.conftest import assert_error_body, snapshot

pytestmark = pytest.mark.django_db

URL = "/settings/auto-invite"


def enabled(practice) -> bool:
    return Practice.objects.get(pk=practice.pk).auto_invite_enabled


def test_an_administrator_reads_and_switches_auto_invite(admin_api, admin, practice):
    assert admin_api.get(URL).json() == {"enabled": False, "paused": False}

    response = admin_api.call("put", URL, {"enabled": True})
    assert response.status_code == 200
    assert response.json() == {"enabled": True, "paused": False}
    assert enabled(practice) and admin_api.get(URL).json() == {"enabled": True, "paused": False}
    event = AuditEvent.objects.get(action="settings.auto_invite")
    assert event.actor == admin and event.details == {"enabled": True}


@pytest.mark.parametrize("who", ["staff", "provider"])
@pytest.mark.parametrize("method", ["get", "put"])
def test_other_staff_are_refused(api_as, request, practice, who, method):
    api = api_as(request.getfixturevalue(who), practice)
    body = assert_error_body(api.call(method, URL, {"enabled": True}), 403)
    assert body["detail"] == "Only administrators can change EHR Settings."
    assert not enabled(practice)


@pytest.mark.parametrize("body", [{}, {"enabled": "yes"}, {"enabled": 1}, {"on": True}, []])
def test_a_bad_body_is_refused_and_changes_nothing(admin_api, practice, body):
    assert_error_body(admin_api.call("put", URL, body), 422)
    assert not enabled(practice)


def test_an_administrator_elsewhere_switches_only_their_own_practice(
    api_as, outsider, other_practice, practice
):
    api_as(outsider, other_practice).call("put", URL, {"enabled": True})
    assert enabled(other_practice) and not enabled(practice)


def test_turning_auto_invite_on_without_a_text_message_backend_is_422_with_why(
    admin_api, practice, settings
):
    settings.SMS_URL = ""
    before = snapshot()

    body = assert_error_body(admin_api.call("put", URL, {"enabled": True}), 422)

    assert body["errors"] == {"enabled": [AUTO_INVITE_NEEDS_SMS_MESSAGE]}
    assert not enabled(practice)
    assert admin_api.get(URL).json() == {"enabled": False, "paused": False}
    assert snapshot()["audit"] == before["audit"]


def test_turning_auto_invite_off_works_without_a_text_message_backend(
    admin_api, practice, settings
):
    admin_api.call("put", URL, {"enabled": True})
    settings.SMS_URL = ""

    response = admin_api.call("put", URL, {"enabled": False})

    assert response.status_code == 200
    assert response.json() == {"enabled": False, "paused": False}
    assert not enabled(practice)


def test_a_practice_whose_text_message_backend_went_away_reads_as_paused(
    admin_api, practice, settings
):
    admin_api.call("put", URL, {"enabled": True})
    settings.SMS_URL = ""
    assert admin_api.get(URL).json() == {"enabled": True, "paused": True}
