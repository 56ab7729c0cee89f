"""`<time datetime>` values are valid HTML (issue 12): dates as 2026-11-30, times to the
second with the offset of the zone the page shows, never fractions of a second (HTML allows
at most three digits; Django's `date:'c'` writes six). The browser tests check whole pages
with the Nu Html Checker (tests/e2e/test_valid_html.py); these catch the same regression
in the SQLite suite, without Java."""

import datetime as dt
import re

import pytest
import time_machine
from django.template import Context, Template
from django.template.loader import render_to_string
from django.utils import timezone

from portico.audit.models import AuditEvent
from portico.charts.services import chart_viewed
from portico.portal.models import PortalAccess
from portico.portal.selectors import portal_timeline
from portico.scheduling.models import Appointment
from tests import factories
from tests.factories import sign_in
from tests.pages.conftest import chart_url
from tests.pages.html import parse

pytestmark = pytest.mark.django_db

# A moment with microseconds, as every stored timestamp has.
MOMENT = dt.datetime(2026, 11, 30, 5, 7, 19, 123456, tzinfo=dt.UTC)
CHICAGO = "2026-11-29T23:07:19-06:00"  # MOMENT in the practice's zone, to the second
VALID = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}([+-]\d{2}:\d{2}|Z))?$")


@pytest.fixture(autouse=True)
def _in_chicago(practice):
    practice.time_zone = "America/Chicago"
    practice.save()


def datetimes(page) -> list[str]:
    """The datetime of every <time> in a response, an HTML text or an element."""
    if not hasattr(page, "find_all"):
        page = parse(page)
    values = [t["datetime"] for t in page.find_all("time")]
    assert values, "no <time> on the page"
    for value in values:
        assert VALID.match(value), f"not a valid HTML date or time: {value!r}"
    return values


def attr(value, zone="UTC") -> str:
    template = Template(
        "{% load html_time tz %}{% timezone zone %}{{ value|datetime_attr }}{% endtimezone %}"
    )
    return template.render(Context({"value": value, "zone": zone}))


def test_filter_writes_seconds_and_the_offset_of_the_zone_the_page_shows():
    assert attr(MOMENT) == "2026-11-30T05:07:19+00:00"
    assert attr(MOMENT, "America/Chicago") == CHICAGO
    assert attr(dt.date(2026, 11, 30)) == "2026-11-30"
    assert attr(None) == attr("") == ""


def test_chart_troubleshooter_timeline(staff_client, admin, patient):
    with time_machine.travel(MOMENT, tick=False):
        factories.invite(admin, patient)
        html = staff_client.get(chart_url(patient, portal="open"))

    values = datetimes(parse(html).one("section", class_="troubleshooter"))
    assert CHICAGO in values


def test_chart_timeline(admin, patient):
    with time_machine.travel(MOMENT, tick=False):
        factories.invite(admin, patient)
    events = portal_timeline(patient)
    assert events

    with timezone.override("America/Chicago"):
        html = render_to_string("portal/_timeline.html", {"events": events})

    assert set(datetimes(html)) == {CHICAGO}


def test_patient_access_log_and_record(client, admin, staff, patient, provider):
    account = factories.enroll(admin, patient)
    with time_machine.travel(MOMENT, tick=False):
        chart_viewed(staff, patient=patient)
    assert AuditEvent.objects.get(action="chart.view").created_at.microsecond == 123456
    start = timezone.now() + dt.timedelta(days=3, microseconds=654321)
    Appointment.objects.create(
        practice=patient.practice,
        patient=patient,
        provider=provider,
        start_at=start,
        end_at=start + dt.timedelta(minutes=30),
        visit_type="Follow-up visit",
    )
    sign_in(client, account)
    access = PortalAccess.objects.get(patient=patient).public_id

    log = client.get(f"/portal/records/{access}/access-log/")
    assert datetimes(log) == [CHICAGO]

    record = client.get(f"/portal/records/{access}/")
    local = timezone.localtime(start, timezone=dt.timezone(start.utcoffset() or dt.timedelta()))
    assert len(datetimes(record)) == 1
    assert local.replace(microsecond=0) == dt.datetime.fromisoformat(datetimes(record)[0])
