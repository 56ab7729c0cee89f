"""The staff patient list: find a patient by name or date of birth, without slow pages."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from portico.portal.models import AccessState
from tests import factories
from tests.pages.html import parse

LIST = reverse("charts:patient_list")


def listed_names(response) -> list[str]:
    table = parse(response).find("table", class_="patients")
    if table is None:
        return []
    return [row.find("a").text for row in table.find("tbody").find_all("tr")]


@pytest.fixture
def three_patients(practice, other_practice):
    factories.make_patient(
        practice,
        legal_first_name="Maria",
        legal_last_name="Gonzalez",
        date_of_birth=dt.date(1975, 3, 9),
    )
    factories.make_patient(
        practice,
        legal_first_name="Mark",
        legal_last_name="Lee",
        preferred_name="Marky",
        date_of_birth=dt.date(1990, 12, 1),
    )
    factories.make_patient(
        practice,
        legal_first_name="Ann",
        legal_last_name="Smith",
        date_of_birth=dt.date(1975, 3, 9),
    )
    # Same name at another practice: never listed here.
    factories.make_patient(
        other_practice,
        legal_first_name="Maria",
        legal_last_name="Gonzalez",
        date_of_birth=dt.date(1975, 3, 9),
    )


def test_patient_list_shows_only_this_practices_charts(staff_client, three_patients):
    assert listed_names(staff_client.get(LIST)) == ["Gonzalez, Maria", "Lee, Mark", "Smith, Ann"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("gonz", ["Gonzalez, Maria"]),
        ("MARIA gonzalez", ["Gonzalez, Maria"]),
        ("marky", ["Lee, Mark"]),
        ("mar", ["Gonzalez, Maria", "Lee, Mark"]),
        ("nobody", []),
    ],
)
def test_search_by_name_matches_any_part_of_the_name(staff_client, three_patients, query, expected):
    assert listed_names(staff_client.get(LIST, {"q": query})) == expected


@pytest.mark.parametrize("query", ["1975-03-09", "03/09/1975", "3/9/1975"])
def test_search_by_date_of_birth_accepts_iso_and_us_dates(staff_client, three_patients, query):
    assert listed_names(staff_client.get(LIST, {"q": query})) == [
        "Gonzalez, Maria",
        "Smith, Ann",
    ]


def test_search_without_match_says_so(staff_client, three_patients):
    page = parse(staff_client.get(LIST, {"q": "Zebra"}))

    assert "No patient matches “Zebra”." in page.one("main").text


def test_search_box_keeps_what_was_typed(staff_client, three_patients):
    page = parse(staff_client.get(LIST, {"q": "gonz"}))

    assert page.one("input", name="q")["value"] == "gonz"


def test_patient_list_shows_each_charts_portal_status(staff_client, admin, practice):
    invited = factories.make_patient(practice, legal_last_name="Invited")
    expired = factories.make_patient(practice, legal_last_name="Expired")
    factories.make_patient(practice, legal_last_name="Plain")
    factories.invite(admin, invited)
    old = factories.invite(admin, expired)
    old.expires_at = old.created_at - dt.timedelta(seconds=1)
    old.save(update_fields=["expires_at"])

    table = parse(staff_client.get(LIST)).one("table", class_="patients")
    status = {row.find("a").text: row.find_all("td")[2].text for row in table.find_all("tr")[1:]}

    assert status == {
        "Expired, Robin": AccessState.EXPIRED.label,
        "Invited, Robin": AccessState.INVITED.label,
        "Plain, Robin": "Not invited",
    }


def _list_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(LIST)
    assert response.status_code == 200
    return len(queries)


def _add_patients(practice, admin, count: int) -> None:
    for i in range(count):
        patient = factories.make_patient(practice, legal_last_name=f"Many{i:03}")
        if i % 2 == 0:
            factories.invite(admin, patient)


def test_patient_list_queries_do_not_grow_with_the_number_of_patients(
    staff_client, admin, practice
):
    _add_patients(practice, admin, 5)
    few = _list_queries(staff_client)
    _add_patients(practice, admin, 35)
    many = _list_queries(staff_client)

    assert many == few


def test_patient_list_stays_within_a_small_fixed_number_of_queries(
    staff_client, admin, practice, django_assert_max_num_queries
):
    _add_patients(practice, admin, 40)
    with django_assert_max_num_queries(8):
        staff_client.get(LIST)
