"""EHR Settings > Patient communications > Appointment reminders > cancellation policy (SPEC
§8.6): whether patients' cancellations need the practice's approval (never, always, or within N
calendar days) and whether patients are alerted about possible charges within N calendar days.
Administrators only, audited; bad input shows a message and changes nothing."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from portico.audit.models import AuditEvent
from portico.practices.models import CancellationApproval
from portico.practices.services import cancellation_policy_set
from tests.factories import sign_in
from tests.pages.html import parse
from tests.records.test_record_spanish import spanish

pytestmark = pytest.mark.django_db

PAGE = "/ehr/settings/patient-communications/appointment-reminders/"

APPROVAL_LABELS = [
    "Do not require approval for any cancellation requests",
    "Require approval for all cancellation requests",
    "Require approval for requests that fall within N calendar days",
]
NOTICE_LABELS = [
    "Practice doesn't have policy",
    "Alert patients about possible charges for appointments cancelled within N calendar days",
]


def post(client, approval="none", approval_days="", notice="none", notice_days=""):
    return client.post(
        PAGE,
        {
            "form": "cancellation",
            "approval": approval,
            "approval_days": approval_days,
            "notice": notice,
            "notice_days": notice_days,
        },
    )


def policy(practice) -> tuple:
    practice.refresh_from_db()
    return (
        practice.cancellation_approval,
        practice.cancellation_approval_days,
        practice.cancellation_notice_days,
    )


def test_the_reminders_tab_shows_the_policy_with_its_exact_labels(client, admin, practice):
    sign_in(client, admin)

    page = parse(client.get(PAGE))

    section = page.one("section", aria_labelledby="cancellation-heading")
    labels = [label.text for label in section.find_all("label")]
    assert [t for t in labels if t in APPROVAL_LABELS] == APPROVAL_LABELS
    assert [t for t in labels if t in NOTICE_LABELS] == NOTICE_LABELS
    # The defaults: no approval, no policy.
    assert section.one("input", id="id_approval_0").get("checked") is not None
    assert section.one("input", id="id_notice_0").get("checked") is not None
    # Each N box has its own label.
    for box in section.find_all("input", type="number"):
        assert section.one("label", for_=box["id"]).text
    # The reminders form is still there, with its own button.
    assert page.find("button", text="Save") is not None
    assert section.one("button", text="Save cancellation policy")


def test_an_administrator_requires_approval_within_n_days_and_alerts_about_charges(
    client, admin, practice
):
    sign_in(client, admin)

    response = post(client, "within", "2", "within", "1")

    assert response.status_code == 302 and response.url == PAGE
    assert policy(practice) == (CancellationApproval.WITHIN, 2, 1)
    event = AuditEvent.objects.get(action="settings.cancellation_policy")
    assert event.actor == admin
    assert event.details == {
        "approval": "within",
        "approval_days": 2,
        "notice_days": 1,
        "changed": ["approval", "approval_days", "notice_days"],
    }
    page = parse(client.get(PAGE))
    assert "The cancellation policy is saved." in page.text
    assert page.one("input", id="id_approval_2").get("checked") is not None
    assert page.one("input", id="id_approval_days")["value"] == "2"
    assert page.one("input", id="id_notice_1").get("checked") is not None
    assert page.one("input", id="id_notice_days")["value"] == "1"


def test_choosing_all_or_no_policy_clears_the_days(client, admin, practice):
    sign_in(client, admin)
    post(client, "within", "5", "within", "3")

    post(client, "all", "5", "none", "3")

    assert policy(practice) == (CancellationApproval.ALL, None, None)
    post(client, "all", "", "none", "")
    assert "Nothing changed." in client.get(PAGE).content.decode()


@pytest.mark.parametrize(
    ("fields", "where", "message"),
    [
        ({"approval": "within", "approval_days": ""}, "approval_days", "Enter the number"),
        ({"approval": "within", "approval_days": "0"}, "approval_days", "from 1 to 90"),
        ({"approval": "within", "approval_days": "91"}, "approval_days", "from 1 to 90"),
        ({"approval": "within", "approval_days": "-3"}, "approval_days", "from 1 to 90"),
        ({"approval": "within", "approval_days": "two"}, "approval_days", "whole number"),
        ({"approval": "within", "approval_days": "9" * 40}, "approval_days", "whole number"),
        ({"approval": "within", "approval_days": "3\x00"}, "approval_days", "ull"),
        ({"approval": "within", "approval_days": "1.5"}, "approval_days", "whole number"),
        ({"notice": "within", "notice_days": ""}, "notice_days", "Enter the number"),
        ({"notice": "within", "notice_days": "0"}, "notice_days", "from 1 to 90"),
        ({"notice": "within", "notice_days": "x"}, "notice_days", "whole number"),
        ({"approval": "sometimes"}, "approval", "Choose one of the approval policies."),
        ({"approval": ""}, "approval", "Choose one of the approval policies."),
        ({"notice": "maybe"}, "notice", "Choose whether patients are alerted"),
    ],
)
def test_bad_input_shows_a_message_next_to_its_choice_and_changes_nothing(
    client, admin, practice, fields, where, message
):
    sign_in(client, admin)
    post(client, "within", "3", "within", "2")
    before = policy(practice)
    audited = AuditEvent.objects.filter(action="settings.cancellation_policy").count()

    response = post(client, **{"approval": "within", "approval_days": "4", **fields})

    assert response.status_code == 400
    page = parse(response)
    assert message in page.one("div", id=f"id_{where}_error").text
    assert page.one("div", class_="error-summary")
    assert policy(practice) == before
    assert AuditEvent.objects.filter(action="settings.cancellation_policy").count() == audited


def test_every_box_with_a_problem_says_so_at_once(client, admin, practice):
    sign_in(client, admin)

    response = post(client, "within", "0", "within", "")

    assert response.status_code == 400
    page = parse(response)
    assert "from 1 to 90" in page.one("div", id="id_approval_days_error").text
    assert "Enter the number" in page.one("div", id="id_notice_days_error").text
    # What was typed stays in the boxes.
    assert page.one("input", id="id_approval_days")["value"] == "0"
    assert policy(practice) == (CancellationApproval.NONE, None, None)


def test_only_administrators_change_the_policy(client, practice, staff, provider):
    for user in (staff, provider):
        sign_in(client, user)
        assert post(client, "all").status_code == 403
    assert policy(practice) == (CancellationApproval.NONE, None, None)
    with pytest.raises(PermissionDenied):
        cancellation_policy_set(provider, practice=practice, approval="all")


def test_another_practices_administrator_changes_only_their_own(
    client, practice, outsider, other_practice
):
    sign_in(client, outsider)

    post(client, "all")

    assert policy(practice) == (CancellationApproval.NONE, None, None)
    assert policy(other_practice)[0] == CancellationApproval.ALL


def test_the_service_checks_its_input_like_the_page(admin, practice):
    for kwargs, field in (
        ({"approval": "within"}, "approval_days"),
        ({"approval": "within", "approval_days": True}, "approval_days"),
        ({"approval": "within", "approval_days": 90.5}, "approval_days"),
        ({"approval": "none", "notice_days": 0}, "notice_days"),
        ({"approval": "none", "notice_days": "ten"}, "notice_days"),
        ({"approval": None}, "approval"),
    ):
        with pytest.raises(ValidationError) as refused:
            cancellation_policy_set(admin, practice=practice, **kwargs)
        assert list(refused.value.message_dict) == [field]
    assert policy(practice) == (CancellationApproval.NONE, None, None)
    assert cancellation_policy_set(
        admin, practice=practice, approval="within", approval_days="90", notice_days=90
    ) == ["approval", "approval_days", "notice_days"]
    assert policy(practice) == (CancellationApproval.WITHIN, 90, 90)


def test_the_reminders_form_still_works_beside_the_policy(client, admin, practice, provider):
    sign_in(client, admin)
    post(client, "all")

    response = client.post(PAGE, {"enabled": "on", "sends_reminders": []})

    assert response.status_code == 302
    practice.refresh_from_db()
    assert practice.reminders_enabled
    assert practice.cancellation_approval == CancellationApproval.ALL


def test_the_tab_renders_in_spanish(client, monkeypatch, admin, practice):
    """Staff pages speak English for now (portal.language); with that rule lifted, the tab and
    its errors render in Spanish without an error."""
    from portico.portal import language

    monkeypatch.setattr(language, "STAFF_NAMESPACES", frozenset())
    monkeypatch.setattr(language, "STAFF_PATH_PREFIX", "/nothing/")
    sign_in(client, admin)
    with spanish(client):
        for response in (client.get(PAGE), post(client, "within", "0", "within", "abc")):
            assert response.status_code in (200, 400)
            page = parse(response)
            assert page.one("html")["lang"] == "es"
            assert "Recordatorios de citas" in page.text
