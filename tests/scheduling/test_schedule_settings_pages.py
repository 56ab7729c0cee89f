"""Schedule settings pages (SPEC §8.4): providers' working hours, visit types, locations and
blocked times. An administrator changes everything; a provider their own hours and blocked
times; other staff only look. Bad input is shown next to the right field or row and nothing is
stored; another practice's objects are 404."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from portico.audit.models import AuditEvent
from portico.practices.models import Role
from portico.scheduling.models import BlockedTime, Location, VisitType, WorkingHours
from portico.scheduling.services import blocked_time_add, location_save, visit_type_save
from tests import factories
from tests.factories import sign_in
from tests.pages.html import field_errors, messages, parse
from tests.scheduling.conftest import NEW_YORK, NOW, at

pytestmark = pytest.mark.django_db

SETTINGS = reverse("scheduling:settings")
BLOCKED = reverse("scheduling:blocked")
MONDAY = NOW.date()


def hours_url(user):
    return reverse("scheduling:hours", args=[user.public_id])


@pytest.fixture
def as_(client, now):
    """Sign the test client in as someone (after the clock is set)."""

    def sign(user):
        sign_in(client, user)
        return client

    return sign


def week(**days) -> dict:
    """The hours form's fields: `mon=[("09:00", "12:00", ""), …]` and so on."""
    names = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    data = {}
    for weekday, name in enumerate(names):
        for n in range(2):
            data[f"{weekday}-{n}-start"] = ""
            data[f"{weekday}-{n}-end"] = ""
            data[f"{weekday}-{n}-location"] = ""
        for n, (start, end, location) in enumerate(days.get(name, [])):
            data[f"{weekday}-{n}-start"] = start
            data[f"{weekday}-{n}-end"] = end
            data[f"{weekday}-{n}-location"] = location
    return data


# --- The overview ---------------------------------------------------------------------------


def test_the_overview_shows_each_providers_week_visit_types_and_locations_to_any_member(
    as_, admin, staff, practice, provider, follow_up, hours
):
    location_save(admin, practice=practice, name="Eastside", city="Springfield", state="IL")
    retired = visit_type_save(admin, practice=practice, name="Old visit", duration_minutes=30)
    visit_type_save(
        admin,
        practice=practice,
        visit_type=retired,
        name="Old visit",
        duration_minutes=30,
        is_active=False,
    )

    page = parse(as_(staff).get(SETTINGS))

    row = page.one("th", text="Dr. Paula Provider, MD").closest("tr")
    assert [li.text for li in row.find_all("li")] == [
        f"{day}: 9:00 AM – 12:00 PM, 1:00 PM – 5:00 PM"
        for day in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")
    ]
    assert row.find("a") is None  # staff may look, not edit
    assert page.one("th", text="Follow-up").closest("tr").find_all("td")[0].text == "20 min"
    assert page.one("th", text="Old visit").closest("tr").find_all("td")[1].text == "No (retired)"
    assert page.one("th", text="Eastside").closest("tr").find_all("td")[0].text == (
        "Springfield, IL"
    )
    assert page.find("a", text="Add a visit type") is None


def test_administrators_see_every_edit_link_and_the_settings_sections(
    as_, admin, provider, follow_up
):
    page = parse(as_(admin).get(SETTINGS))

    assert page.one("a", href=hours_url(provider))
    assert page.one("a", text="Add a visit type")
    nav = page.one("nav", class_="settings-nav")
    assert nav.one("a", text="Schedules").get("aria-current") == "page"


def test_a_provider_sees_the_edit_link_of_their_own_hours_only(as_, practice, provider):
    colleague = factories.make_staff(practice, role=Role.PROVIDER, full_name="Dr. Colleague")

    page = parse(as_(provider).get(SETTINGS))

    assert page.find("a", href=hours_url(provider))
    assert page.find("a", href=hours_url(colleague)) is None


# --- Working hours --------------------------------------------------------------------------


def test_an_administrator_sets_a_providers_week_at_once(as_, admin, practice, provider):
    eastside = location_save(admin, practice=practice, name="Eastside")
    client = as_(admin)

    response = client.post(
        hours_url(provider),
        week(
            mon=[("09:00", "12:00", ""), ("13:00", "17:00", str(eastside.public_id))],
            wed=[("08:30", "11:30", "")],
        ),
    )

    assert response.status_code == 302 and response["Location"] == SETTINGS
    rows = list(
        WorkingHours.objects.filter(provider=provider).values_list(
            "weekday", "start_time", "end_time", "location"
        )
    )
    assert rows == [
        (0, dt.time(9), dt.time(12), None),
        (0, dt.time(13), dt.time(17), eastside.pk),
        (2, dt.time(8, 30), dt.time(11, 30), None),
    ]
    assert messages(parse(client.get(SETTINGS))) == [
        "Dr. Paula Provider's working hours are saved."
    ]
    assert AuditEvent.objects.filter(action="schedule.hours_set").count() == 1


def test_the_hours_page_shows_the_week_as_it_is(as_, admin, provider, hours):
    page = parse(as_(admin).get(hours_url(provider)))

    assert page.one("input", name="1-0-start")["value"] == "09:00"
    assert page.one("input", name="1-1-end")["value"] == "17:00"
    assert page.one("input", name="5-0-start").get("value") in (None, "")
    label = page.one("label", for_="hours-0-1-start")
    assert label.text == "Start (Monday, hours 2)"


def test_hours_that_end_before_they_start_are_refused_beside_their_row_and_kept_as_typed(
    as_, admin, provider, hours
):
    response = as_(admin).post(
        hours_url(provider),
        week(mon=[("09:00", "12:00", "")], tue=[("09:00", "12:00", ""), ("17:00", "13:00", "")]),
    )

    assert response.status_code == 400
    page = parse(response)
    row_error = page.one(id="hours-1-1-error")
    assert row_error.text == "The end time must be after the start time."
    field = page.one("input", name="1-1-start")
    assert field["value"] == "17:00" and field["aria-describedby"] == "hours-1-1-error"
    assert field["aria-invalid"] == "true"
    assert page.one("input", name="0-0-start")["value"] == "09:00"
    # Nothing changed: still Monday to Friday, two stretches a day.
    assert WorkingHours.objects.filter(provider=provider).count() == 10


def test_overlapping_or_half_filled_stretches_are_refused(as_, admin, provider):
    client = as_(admin)

    overlap = client.post(
        hours_url(provider), week(fri=[("09:00", "12:00", ""), ("11:00", "14:00", "")])
    )
    half = client.post(hours_url(provider), week(sat=[("09:00", "", "")]))

    assert overlap.status_code == 400
    assert parse(overlap).one(id="hours-4-1-error").text == (
        "This overlaps other hours on the same day."
    )
    assert half.status_code == 400
    assert parse(half).one(id="hours-5-0-error").text == "Enter a start and an end time."
    assert not WorkingHours.objects.exists()


def test_another_practices_location_is_refused_for_hours(as_, admin, provider, other_practice,
                                                          outsider):  # fmt: skip
    theirs = location_save(outsider, practice=other_practice, name="Theirs")

    response = as_(admin).post(
        hours_url(provider), week(mon=[("09:00", "12:00", str(theirs.public_id))])
    )

    assert response.status_code == 400
    assert parse(response).one(id="hours-0-0-error").text == "Choose a location of this practice."
    assert not WorkingHours.objects.exists()


def test_a_provider_sets_their_own_hours_but_not_a_colleagues(as_, practice, provider):
    colleague = factories.make_staff(practice, role=Role.PROVIDER)
    client = as_(provider)

    assert client.get(hours_url(provider)).status_code == 200
    assert client.post(hours_url(provider), week(mon=[("10:00", "11:00", "")])).status_code == 302
    assert client.get(hours_url(colleague)).status_code == 403
    assert client.post(hours_url(colleague), week(mon=[("10:00", "11:00", "")])).status_code == 403
    assert list(WorkingHours.objects.values_list("provider", flat=True)) == [provider.pk]


def test_staff_may_not_edit_hours(as_, staff, provider, hours):
    client = as_(staff)

    assert client.get(hours_url(provider)).status_code == 403
    assert client.post(hours_url(provider), week()).status_code == 403
    assert WorkingHours.objects.filter(provider=provider).count() == 10


def test_hours_of_another_practices_provider_or_of_a_non_provider_are_404(
    as_, admin, staff, other_practice
):
    theirs = factories.make_staff(other_practice, role=Role.PROVIDER)
    client = as_(admin)

    assert client.get(hours_url(theirs)).status_code == 404
    assert client.post(hours_url(theirs), week()).status_code == 404
    assert client.get(hours_url(staff)).status_code == 404


# --- Visit types and locations --------------------------------------------------------------


def test_an_administrator_adds_changes_and_retires_a_visit_type(as_, admin, practice):
    client = as_(admin)

    response = client.post(
        reverse("scheduling:visit_type_new"),
        {"name": "Telehealth", "duration_minutes": "15", "is_active": "on"},
    )
    assert response.status_code == 302
    telehealth = VisitType.objects.get(practice=practice)
    assert (telehealth.name, telehealth.duration_minutes, telehealth.is_active) == (
        "Telehealth",
        15,
        True,
    )

    edit = reverse("scheduling:visit_type_edit", args=[telehealth.public_id])
    assert parse(client.get(edit)).one("input", name="duration_minutes")["value"] == "15"
    client.post(edit, {"name": "Video visit", "duration_minutes": "20"})
    telehealth.refresh_from_db()
    assert (telehealth.name, telehealth.duration_minutes, telehealth.is_active) == (
        "Video visit",
        20,
        False,
    )


def test_a_visit_type_with_a_bad_length_or_no_name_is_refused_next_to_the_field(as_, admin):
    response = as_(admin).post(
        reverse("scheduling:visit_type_new"), {"name": "", "duration_minutes": "600"}
    )

    assert response.status_code == 400
    page = parse(response)
    assert field_errors(page, "id_name") == ["Give the visit type a name."]
    assert field_errors(page, "id_duration_minutes") == ["Enter a length from 5 to 480 minutes."]
    assert not VisitType.objects.exists()


def test_an_administrator_adds_and_retires_a_location(as_, admin, practice):
    client = as_(admin)

    client.post(
        reverse("scheduling:location_new"),
        {
            "name": "Eastside",
            "address_line1": "1 Main St",
            "city": "Springfield",
            "is_active": "on",
        },
    )
    eastside = Location.objects.get(practice=practice)
    assert (eastside.address_line1, eastside.is_active) == ("1 Main St", True)

    edit = reverse("scheduling:location_edit", args=[eastside.public_id])
    duplicate = client.post(reverse("scheduling:location_new"), {"name": "eastside"})
    assert duplicate.status_code == 400
    assert field_errors(parse(duplicate), "id_name") == [
        "The practice already has a location by this name."
    ]
    client.post(edit, {"name": "Eastside", "address_line1": "1 Main St"})
    eastside.refresh_from_db()
    assert eastside.is_active is False
    assert Location.objects.count() == 1


def test_only_administrators_edit_visit_types_and_locations(
    as_, staff, provider, admin, practice, follow_up
):
    eastside = location_save(admin, practice=practice, name="Eastside")
    urls = [
        reverse("scheduling:visit_type_new"),
        reverse("scheduling:visit_type_edit", args=[follow_up.public_id]),
        reverse("scheduling:location_new"),
        reverse("scheduling:location_edit", args=[eastside.public_id]),
    ]
    for person in (staff, provider):
        client = as_(person)
        for url in urls:
            assert client.get(url).status_code == 403, (person, url)
            assert client.post(url, {"name": "X", "duration_minutes": "10"}).status_code == 403
    follow_up.refresh_from_db()
    assert follow_up.name == "Follow-up" and VisitType.objects.count() == 1
    assert Location.objects.count() == 1


def test_another_practices_visit_type_and_location_are_404(as_, admin, other_practice, outsider):
    theirs_type = visit_type_save(outsider, practice=other_practice, name="X", duration_minutes=10)
    theirs_place = location_save(outsider, practice=other_practice, name="Y")
    client = as_(admin)

    for url in (
        reverse("scheduling:visit_type_edit", args=[theirs_type.public_id]),
        reverse("scheduling:location_edit", args=[theirs_place.public_id]),
    ):
        assert client.get(url).status_code == 404
        assert client.post(url, {"name": "Mine now", "duration_minutes": "10"}).status_code == 404
    theirs_type.refresh_from_db()
    assert theirs_type.name == "X"


# --- Blocked times --------------------------------------------------------------------------


def blocked_form(provider="", start=("2026-12-24", "00:00"), end=("2026-12-26", "00:00"), label=""):
    return {
        "provider": str(provider.public_id) if provider else "",
        "start_date": start[0],
        "start_time": start[1],
        "end_date": end[0],
        "end_time": end[1],
        "label": label,
    }


def test_an_administrator_blocks_the_whole_practice_in_its_time_zone(as_, admin, practice):
    client = as_(admin)

    response = client.post(BLOCKED, blocked_form(label="Holiday"))

    assert response.status_code == 302
    blocked = BlockedTime.objects.get()
    assert blocked.provider is None and blocked.label == "Holiday"
    assert blocked.start_at == dt.datetime(2026, 12, 24, tzinfo=NEW_YORK)
    assert blocked.end_at == dt.datetime(2026, 12, 26, tzinfo=NEW_YORK)
    page = parse(client.get(BLOCKED))
    assert messages(page) == ["The time is blocked."]
    row = page.one("th", text="Whole practice").closest("tr")
    assert [td.text for td in row.find_all("td")][:3] == [
        "December 24, 2026, 12:00 AM",
        "December 26, 2026, 12:00 AM",
        "Holiday",
    ]


def test_a_blocked_time_that_ends_before_it_starts_is_refused_and_nothing_stored(as_, admin):
    response = as_(admin).post(
        BLOCKED, blocked_form(start=("2026-12-24", "15:00"), end=("2026-12-24", "14:00"))
    )

    assert response.status_code == 400
    assert field_errors(parse(response), "blocked-end_time") == ["The end must be after the start."]
    assert not BlockedTime.objects.exists()


def test_a_provider_blocks_and_frees_their_own_time_only(as_, admin, practice, provider):
    colleague = factories.make_staff(practice, role=Role.PROVIDER, full_name="Dr. Colleague")
    theirs = blocked_time_add(
        admin, practice=practice, provider=colleague, start_at=at(MONDAY, 10),
        end_at=at(MONDAY, 11), label="Their meeting",
    )  # fmt: skip
    client = as_(provider)

    page = parse(client.get(BLOCKED))
    assert [o["value"] for o in page.one("select", name="provider").find_all("option")] == [
        str(provider.public_id)
    ]
    assert page.one("th", text="Dr. Colleague").closest("tr").find("button") is None

    assert client.post(BLOCKED, blocked_form(provider, label="Conference")).status_code == 302
    mine = BlockedTime.objects.get(provider=provider)
    assert client.post(BLOCKED, blocked_form(colleague)).status_code == 403
    assert client.post(BLOCKED, blocked_form()).status_code == 403  # the whole practice
    remove = "scheduling:blocked_remove"
    assert client.post(reverse(remove, args=[theirs.public_id])).status_code == 403
    assert client.post(reverse(remove, args=[mine.public_id])).status_code == 302
    assert list(BlockedTime.objects.all()) == [theirs]


def test_staff_may_not_block_time(as_, staff, admin, practice, provider):
    blocked = blocked_time_add(
        admin, practice=practice, provider=provider, start_at=at(MONDAY, 10),
        end_at=at(MONDAY, 11),
    )  # fmt: skip
    client = as_(staff)

    assert client.get(BLOCKED).status_code == 403
    assert client.post(BLOCKED, blocked_form(label="Nap")).status_code == 403
    assert (
        client.post(reverse("scheduling:blocked_remove", args=[blocked.public_id])).status_code
        == 403
    )
    assert list(BlockedTime.objects.all()) == [blocked]


def test_removing_a_blocked_time_is_post_only_and_another_practices_is_404(
    as_, admin, practice, other_practice, outsider
):
    theirs = blocked_time_add(
        outsider, practice=other_practice, start_at=at(MONDAY, 10), end_at=at(MONDAY, 11)
    )
    mine = blocked_time_add(
        admin, practice=practice, start_at=at(MONDAY, 10), end_at=at(MONDAY, 11)
    )
    client = as_(admin)

    assert (
        client.get(reverse("scheduling:blocked_remove", args=[mine.public_id])).status_code == 405
    )
    assert (
        client.post(reverse("scheduling:blocked_remove", args=[theirs.public_id])).status_code
        == 404
    )
    response = client.post(reverse("scheduling:blocked_remove", args=[mine.public_id]))
    assert response.status_code == 302
    assert list(BlockedTime.objects.all()) == [theirs]
    assert messages(parse(client.get(BLOCKED))) == [
        "The blocked time is removed: it can be booked again."
    ]


def test_a_signed_in_patient_gets_403_on_the_settings_pages(client, admin, patient, provider):
    sign_in(client, factories.enroll(admin, patient))

    for url in (SETTINGS, BLOCKED, hours_url(provider), reverse("scheduling:visit_type_new")):
        assert client.get(url).status_code == 403
        assert client.post(url).status_code == 403
