"""GET/PUT /api/v1/settings/messaging: the same services as the "Messaging" settings tab
(practices.services.messaging_settings_set and message_helpers_set), administrators only,
strict values, all or nothing, every change audited."""

import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portico.audit.models import AuditEvent
from portico.practices.models import Membership, Practice, Role
from tests import factories
from tests.api.conftest import assert_error_body
from tests.api.test_bad_input import json_values

pytestmark = pytest.mark.django_db

URL = "/settings/messaging"


def state(practice) -> dict:
    practice = Practice.objects.get(pk=practice.pk)
    return {
        "enabled": practice.messaging_enabled,
        "auto_file": practice.messaging_auto_file,
        "may_answer": sorted(
            Membership.objects.filter(practice=practice, may_answer_messages=True).values_list(
                "user__email", flat=True
            )
        ),
    }


def test_an_administrator_reads_the_settings(admin_api, practice, provider, staff):
    assert admin_api.get(URL).json() == {"enabled": False, "auto_file": False, "helpers": []}


def test_an_administrator_changes_them_and_each_change_is_audited(
    admin_api, admin, practice, provider, staff
):
    response = admin_api.call(
        "put",
        URL,
        {"enabled": True, "auto_file": True, "helpers": [str(staff.public_id)]},
    )

    assert response.status_code == 200
    assert response.json() == {
        "enabled": True,
        "auto_file": True,
        "helpers": [str(staff.public_id)],
    }
    assert state(practice) == {"enabled": True, "auto_file": True, "may_answer": [staff.email]}
    actions = sorted(
        AuditEvent.objects.filter(actor=admin, action__startswith="settings.messaging").values_list(
            "action", flat=True
        )
    )
    assert actions == [
        "settings.messaging_auto_file",
        "settings.messaging_enabled",
        "settings.messaging_helper",
    ]
    assert admin_api.get(URL).json() == response.json()


def test_only_the_fields_given_change(admin_api, practice, staff):
    admin_api.call("put", URL, {"enabled": True, "helpers": [str(staff.public_id)]})

    admin_api.call("put", URL, {"auto_file": True})
    assert state(practice) == {"enabled": True, "auto_file": True, "may_answer": [staff.email]}

    admin_api.call("put", URL, {"helpers": []})
    assert state(practice) == {"enabled": True, "auto_file": True, "may_answer": []}


def test_providers_always_answer_and_are_not_listed_as_helpers(
    admin_api, practice, provider, staff
):
    response = admin_api.call(
        "put", URL, {"helpers": [str(provider.public_id), str(staff.public_id)]}
    )
    assert response.json()["helpers"] == [str(staff.public_id)]


@pytest.mark.parametrize("who", ["staff", "provider"])
@pytest.mark.parametrize("method", ["get", "put"])
def test_other_staff_are_refused(api_as, request, practice, who, method):
    api = api_as(request.getfixturevalue(who), practice)
    before = state(practice)
    body = assert_error_body(api.call(method, URL, {"enabled": True}), 403)
    assert body["detail"] == "Only administrators can change EHR Settings."
    assert state(practice) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"enabled": "yes"}, "enabled"),
        ({"enabled": 1}, "enabled"),
        ({"enabled": None}, "enabled"),
        ({"auto_file": "on"}, "auto_file"),
        ({"helpers": "everyone"}, "helpers"),
        ({"helpers": ["not-an-id"]}, "helpers.0"),
        ({"helpers": [str(uuid.uuid4())]}, "helpers"),
        ({"on": True}, "on"),
    ],
)
def test_a_bad_body_is_422_with_the_field_and_changes_nothing(
    admin_api, practice, staff, body, field
):
    before = state(practice)
    audit = AuditEvent.objects.count()
    response = admin_api.call("put", URL, {"enabled": True, **body})
    assert field in assert_error_body(response, 422)["errors"]
    assert state(practice) == before
    assert AuditEvent.objects.count() == audit


def test_someone_of_another_practice_cannot_be_made_a_helper(
    admin_api, practice, staff, other_practice
):
    elsewhere = factories.make_staff(other_practice, role=Role.STAFF)
    before = state(practice)
    response = admin_api.call(
        "put", URL, {"enabled": True, "helpers": [str(staff.public_id), str(elsewhere.public_id)]}
    )
    assert list(assert_error_body(response, 422)["errors"]) == ["helpers"]
    assert state(practice) == before
    assert not Membership.objects.get(user=elsewhere).may_answer_messages


def test_an_administrator_elsewhere_changes_only_their_own_practice(
    api_as, outsider, other_practice, practice
):
    api_as(outsider, other_practice).call("put", URL, {"enabled": True})
    assert state(other_practice)["enabled"] and not state(practice)["enabled"]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    payload=st.dictionaries(
        st.sampled_from(["enabled", "auto_file", "helpers", "extra"]), json_values, max_size=3
    )
    | json_values
)
def test_any_json_gives_a_clear_answer_never_a_500(admin_api, practice, payload):
    before = state(practice)
    response = admin_api.call("put", URL, payload)
    if response.status_code != 200:
        assert_error_body(response, 422)
        assert state(practice) == before, payload
