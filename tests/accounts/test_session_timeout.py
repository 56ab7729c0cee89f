"""Idle sessions end (SPEC §4.3): patients after 15 minutes, staff after 30, everyone after
12 hours; configurable; the page warns a minute before and "Stay signed in" keeps it."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from tests import factories
from tests.pages.html import messages, parse

pytestmark = pytest.mark.django_db

SIGN_IN = reverse("accounts:sign_in")
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
PATIENT_LIST = reverse("charts:patient_list")
PROFILE = reverse("accounts:profile")


@pytest.fixture
def account(admin, patient):
    return factories.enroll(admin, patient)


def _signed_out(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith(SIGN_IN)


@pytest.mark.parametrize(
    ("who", "url", "minutes"), [("account", PROFILE, 15), ("staff", PATIENT_LIST, 30)]
)
def test_an_idle_session_ends_at_its_limit(client, request, who, url, minutes):
    user = request.getfixturevalue(who)
    with time_machine.travel(T0, tick=False) as traveller:
        factories.sign_in(client, user)
        traveller.shift(dt.timedelta(minutes=minutes) - dt.timedelta(seconds=5))
        assert client.get(url).status_code == 200  # activity restarts the idle clock
        traveller.shift(dt.timedelta(minutes=minutes) - dt.timedelta(seconds=5))
        assert client.get(url).status_code == 200
        traveller.shift(dt.timedelta(minutes=minutes, seconds=1))
        response = client.get(url)

    assert _signed_out(response)
    assert "_auth_user_id" not in client.session
    page = parse(client.get(response["Location"]))
    assert any(f"after {minutes} minutes without activity" in m for m in messages(page))


@pytest.mark.parametrize(("who", "url"), [("account", PROFILE), ("staff", PATIENT_LIST)])
def test_every_session_ends_after_twelve_hours_even_when_busy(client, request, who, url):
    user = request.getfixturevalue(who)
    with time_machine.travel(T0, tick=False) as traveller:
        factories.sign_in(client, user)
        for _ in range(12 * 6 - 1):
            traveller.shift(dt.timedelta(minutes=10))
            assert client.get(url).status_code == 200
        traveller.shift(dt.timedelta(minutes=10, seconds=1))
        response = client.get(url)

    assert _signed_out(response)
    page = parse(client.get(response["Location"]))
    assert any("at most 12 hours" in m for m in messages(page))


def test_the_limits_come_from_settings(client, staff, settings):
    settings.PORTICO_IDLE_TIMEOUT_STAFF_MINUTES = 5
    with time_machine.travel(T0, tick=False) as traveller:
        factories.sign_in(client, staff)
        traveller.shift(dt.timedelta(minutes=5, seconds=1))
        assert _signed_out(client.get(PATIENT_LIST))


def test_after_the_timeout_signing_in_returns_to_the_page(client, staff):
    with time_machine.travel(T0, tick=False) as traveller:
        factories.sign_in(client, staff)
        traveller.shift(dt.timedelta(minutes=31))
        response = client.get(PATIENT_LIST)
    assert response["Location"] == f"{SIGN_IN}?next=%2Fehr%2F"


def test_pages_carry_the_warning_with_stay_signed_in_and_no_inline_script(client, staff):
    factories.sign_in(client, staff)
    page = parse(client.get(PATIENT_LIST))
    warning = page.one(id="session-warning")
    assert warning.attrs["data-idle-seconds"] == str(30 * 60)
    assert "hidden" in warning.attrs
    assert warning.one("button").text == "Stay signed in"
    assert all(s.attrs.get("src") for s in page.find_all("script"))


def test_asking_how_long_is_left_is_not_activity(client, account):
    status = reverse("accounts:session_status")
    with time_machine.travel(T0, tick=False) as traveller:
        factories.sign_in(client, account)
        traveller.shift(dt.timedelta(minutes=14))
        assert client.get(status).json() == {"signed_in": True, "seconds_left": 60}
        traveller.shift(dt.timedelta(seconds=61))
        assert client.get(status).json()["signed_in"] is False
    assert "_auth_user_id" not in client.session


def test_stay_signed_in_restarts_the_idle_clock_with_or_without_javascript(client, account):
    keepalive = reverse("accounts:session_keepalive")
    with time_machine.travel(T0, tick=False) as traveller:
        factories.sign_in(client, account)
        traveller.shift(dt.timedelta(minutes=14))
        answer = client.post(keepalive, HTTP_ACCEPT="application/json").json()
        assert answer == {"signed_in": True, "seconds_left": 15 * 60}
        traveller.shift(dt.timedelta(minutes=14))
        response = client.post(keepalive, {"next": PROFILE})
        assert response["Location"] == PROFILE
        traveller.shift(dt.timedelta(minutes=14))
        assert client.get(PROFILE).status_code == 200
