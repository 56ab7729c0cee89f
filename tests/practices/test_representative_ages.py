"""SPEC §9.3: the practice chooses the patient's ages at which a parent's or legal guardian's
access narrows and ends (defaults 12 and 18), in EHR Settings > PHR invite; administrators
only, 10 ≤ narrow < end ≤ 21, audited, and the new ages apply at once."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from portico.audit.models import AuditEvent
from portico.portal import representation
from portico.portal import selectors as portal_selectors
from portico.practices import services
from portico.practices.models import Practice
from tests.factories import enroll_representative, make_patient, sign_in
from tests.pages.html import field_errors, messages, parse

pytestmark = pytest.mark.django_db

AGES = reverse("practices:representative_ages")
PHR_INVITE = reverse("practices:phr_invite")


def ages(practice) -> tuple[int, int]:
    practice = Practice.objects.get(pk=practice.pk)
    return practice.representative_narrow_age, practice.representative_end_age


# --- Refusals first ---------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["staff", "provider", "non_inviter", "outsider"])
def test_only_the_practices_administrators_change_the_ages(request, practice, who):
    with pytest.raises(PermissionDenied):
        services.representative_ages_set(
            request.getfixturevalue(who), practice=practice, narrow_age=13, end_age=19
        )
    assert ages(practice) == (12, 18)
    assert not AuditEvent.objects.filter(action="settings.representative_ages").exists()


@pytest.mark.parametrize("who", ["staff", "provider"])
def test_non_administrators_get_403_from_the_page(client, request, practice, who):
    sign_in(client, request.getfixturevalue(who))

    response = client.post(AGES, {"narrow_age": "13", "end_age": "19"})

    assert response.status_code == 403
    assert ages(practice) == (12, 18)


def test_the_form_refuses_get(client, admin):
    sign_in(client, admin)
    assert client.get(AGES).status_code == 405


@pytest.mark.parametrize(
    "narrow, end, field, message",
    [
        ("9", "18", "narrow_age", "Enter an age from 10 to 21."),
        ("12", "22", "end_age", "Enter an age from 10 to 21."),
        ("", "18", "narrow_age", "Enter an age in years."),
        ("12", "eighteen", "end_age", "Enter the age as a whole number of years."),
        ("12.5", "18", "narrow_age", "Enter the age as a whole number of years."),
        (
            "16",
            "16",
            "end_age",
            "The age at which access ends must be higher than the age at which it narrows.",
        ),
        (
            "18",
            "12",
            "end_age",
            "The age at which access ends must be higher than the age at which it narrows.",
        ),
    ],
)
def test_bad_ages_show_a_message_next_to_the_box_and_change_nothing(
    client, admin, practice, narrow, end, field, message
):
    sign_in(client, admin)

    response = client.post(AGES, {"narrow_age": narrow, "end_age": end})

    assert response.status_code == 400
    assert field_errors(parse(response), f"id_{field}") == [message]
    assert ages(practice) == (12, 18)
    assert not AuditEvent.objects.filter(action="settings.representative_ages").exists()


def test_both_bad_ages_are_reported_at_once(admin, practice):
    with pytest.raises(ValidationError) as caught:
        services.representative_ages_set(admin, practice=practice, narrow_age=3, end_age=40)
    assert set(caught.value.message_dict) == {"narrow_age", "end_age"}
    assert ages(practice) == (12, 18)


# --- The setting ------------------------------------------------------------------------------


def test_the_tab_shows_the_practices_ages(client, admin):
    sign_in(client, admin)

    page = parse(client.get(PHR_INVITE))

    assert page.one("input", name="narrow_age")["value"] == "12"
    assert page.one("input", name="end_age")["value"] == "18"
    assert "Changes apply at once to every representative" in page.text


def test_an_administrator_sets_the_ages_and_the_change_is_audited(client, admin, practice):
    sign_in(client, admin)

    response = client.post(AGES, {"narrow_age": "13", "end_age": "19"}, follow=True)

    assert "The representatives' ages are saved." in messages(parse(response))
    assert ages(practice) == (13, 19)
    event = AuditEvent.objects.get(action="settings.representative_ages")
    assert event.actor == admin and event.practice == practice
    assert event.details == {"narrow_age": 13, "end_age": 19, "changed": ["narrow_age", "end_age"]}

    again = client.post(AGES, {"narrow_age": "13", "end_age": "19"}, follow=True)
    assert "Nothing changed." in messages(parse(again))
    assert AuditEvent.objects.filter(action="settings.representative_ages").count() == 1


def test_the_widest_ages_are_allowed(admin, practice):
    assert services.representative_ages_set(admin, practice=practice, narrow_age=10, end_age=21)
    assert ages(practice) == (10, 21)


def test_new_ages_apply_at_once_to_a_parent_already_enrolled(admin, practice):
    with time_machine.travel(dt.datetime(2026, 6, 1, 18, tzinfo=dt.UTC), tick=False):
        child = make_patient(practice, date_of_birth=dt.date(2013, 3, 10))  # 13
        _account, mother = enroll_representative(admin, child)

        def parent():
            return portal_selectors.representative_of(child, mother.public_id)

        assert representation.is_narrowed(parent())
        services.representative_ages_set(admin, practice=practice, narrow_age=14, end_age=18)
        assert not representation.is_narrowed(parent())
