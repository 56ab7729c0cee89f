"""SPEC §9.2–9.4 in the portal: one account holds its own records and the records it represents,
with a header that always says whose record is open and as whom and a switcher to the records
it may open (only those); the patient's "Who can see my record" page, where they end a
representative's access (a confirm step) or renew a parent's access that ended when they came of
age; the home page listing both kinds of record apart."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from portico.audit.models import AuditEvent
from portico.booking.models import AppointmentRequest
from portico.portal import registration
from portico.portal import services as portal
from portico.portal.models import AccessState, PortalAccess, Representative
from portico.portal.services import NO_ACCESS_MESSAGE
from portico.scheduling import services as scheduling
from tests.booking.conftest import profile  # noqa: F401 (a fixture)
from tests.factories import (
    enroll,
    enroll_representative,
    invite,
    invite_representative,
    make_admin,
    make_patient,
    sign_in,
)
from tests.pages.html import parse
from tests.scheduling.conftest import (  # noqa: F401 (fixtures)
    at,
    follow_up,
    hours,
    now,
)

pytestmark = pytest.mark.django_db

HONOLULU = zoneinfo.ZoneInfo("Pacific/Honolulu")


def own_access(patient) -> PortalAccess:
    return PortalAccess.objects.get(patient=patient)


def record_url(access) -> str:
    return reverse("records:record", args=[access.public_id])


def page_url(access, name: str = "portal:representatives", *args) -> str:
    return reverse(name, args=[access.public_id, *args])


def end_url(access, representative) -> str:
    return page_url(access, "portal:representative_end", representative.public_id)


def renew_url(access, representative) -> str:
    return page_url(access, "portal:representative_renew", representative.public_id)


def _state(representative) -> str:
    return Representative.objects.get(pk=representative.pk).effective_state


def switcher_options(page) -> list[tuple[str, str]]:
    select = page.one("select", id="record-switch")
    return [(option["value"], option.text) for option in select.find_all("option")]


def table_rows(page) -> list[list[str]]:
    body = page.one("tbody")
    return [
        [cell.text for cell in tr.iter() if cell.tag in ("th", "td")] for tr in body.find_all("tr")
    ]


@pytest.fixture
def family(admin, practice, other_practice):
    """Jordan Rivera holds her own record (and one at another practice, which was revoked),
    and represents her son Sam (10, enrolled) and her daughter Alex, whose access the practice
    revoked. Returns a dict of the account, the charts and the accesses."""
    jordan = make_patient(
        practice, legal_first_name="Jordan", legal_last_name="Rivera", email="jordan@example.test"
    )
    account = enroll(admin, jordan)
    elsewhere = make_patient(other_practice, legal_first_name="Jordan", legal_last_name="Rivera")
    other_admin = make_admin(other_practice)
    invitation = invite(other_admin, elsewhere)
    registration.registration_link_account(account, invitation_id=str(invitation.public_id))
    portal.access_revoke(other_admin, patient=elsewhere)
    sam = make_patient(
        practice,
        legal_first_name="Sam",
        legal_last_name="Rivera",
        date_of_birth=dt.date(2016, 5, 1),
    )
    _account, sam_rep = enroll_representative(admin, sam, account=account)
    alex = make_patient(
        practice,
        legal_first_name="Alex",
        legal_last_name="Rivera",
        date_of_birth=dt.date(2015, 1, 2),
    )
    _account, alex_rep = enroll_representative(admin, alex, account=account)
    portal.representative_revoke(admin, representative=alex_rep)
    account.refresh_from_db()
    return {
        "account": account,
        "own": own_access(jordan),
        "elsewhere": own_access(elsewhere),
        "sam": sam,
        "sam_rep": sam_rep,
        "alex": alex,
        "alex_rep": alex_rep,
    }


# --- Whose record, and the switcher -----------------------------------------------------------


def test_the_header_says_whose_record_is_open_and_as_whom(client, family):
    sign_in(client, family["account"])

    child = parse(client.get(record_url(family["sam_rep"])))
    assert child.one(id="record-viewing").text == (
        "Viewing Sam Rivera's record — you are their parent · Riverside Clinic"
    )
    own = parse(client.get(record_url(family["own"])))
    assert own.one(id="record-viewing").text == "Viewing your record · Riverside Clinic"


def test_the_switcher_lists_only_the_records_the_account_may_open(client, family):
    sign_in(client, family["account"])

    page = parse(client.get(record_url(family["sam_rep"])))

    assert switcher_options(page) == [
        (str(family["own"].public_id), "Your record at Riverside Clinic"),
        (
            str(family["sam_rep"].public_id),
            "Sam Rivera's record at Riverside Clinic (you are their parent)",
        ),
    ]
    # The revoked record at the other practice and Alex's revoked one are not offered.
    html = client.get(record_url(family["sam_rep"])).content.decode()
    assert str(family["alex_rep"].public_id) not in html
    assert str(family["elsewhere"].public_id) not in html
    selected = [o for o in page.one("select").find_all("option") if o.get("selected") is not None]
    assert [o["value"] for o in selected] == [str(family["sam_rep"].public_id)]


def test_the_switcher_opens_the_chosen_record(client, family):
    sign_in(client, family["account"])
    switch = reverse("portal:switch")

    response = client.get(switch, {"record": str(family["sam_rep"].public_id)})
    assert response.status_code == 302 and response["Location"] == record_url(family["sam_rep"])
    assert client.get(switch)["Location"] == reverse("portal:home")
    # A revoked record opens to the access error only.
    response = client.get(switch, {"record": str(family["alex_rep"].public_id)}, follow=True)
    assert response.status_code == 403
    assert parse(response).one(class_="access-error").text == str(NO_ACCESS_MESSAGE)


def test_the_switcher_does_not_open_another_accounts_record(client, family, admin, practice):
    stranger_chart = make_patient(practice)
    enroll(admin, stranger_chart)
    _other, theirs = enroll_representative(admin, family["sam"])
    sign_in(client, family["account"])
    switch = reverse("portal:switch")

    for record in (own_access(stranger_chart).public_id, theirs.public_id, "not-an-id"):
        assert client.get(switch, {"record": str(record)}).status_code == 404


def test_a_single_record_has_no_switcher_but_says_whose_it_is(client, admin, patient):
    account = enroll(admin, patient)
    sign_in(client, account)

    page = parse(client.get(record_url(own_access(patient))))

    assert page.one(id="record-viewing").text.startswith("Viewing your record")
    assert page.find("select", id="record-switch") is None


# --- The home page ------------------------------------------------------------------------------


def test_home_lists_own_records_and_records_managed_for_others_apart(client, family):
    sign_in(client, family["account"])

    page = parse(client.get(reverse("portal:home")))

    own = page.one("section", aria_labelledby="own-records-heading")
    assert own.one("h2").text == "Your records"
    assert [h.text for h in own.find_all("h3")] == ["Hilltop Medical", "Riverside Clinic"]
    theirs = page.one("section", aria_labelledby="represented-records-heading")
    assert theirs.one("h2").text == "Records you manage for others"
    cards = theirs.find_all("li")
    # Alex's (revoked): the access error, no name, no link. Sam's: whose, and as whom.
    assert cards[0].one("h3").text == "Riverside Clinic"
    assert cards[0].one(class_="access-error").text == str(NO_ACCESS_MESSAGE)
    assert cards[0].find_all("a") == []
    assert cards[1].one("h3").text == "Sam Rivera"
    assert "You are their parent" in cards[1].text
    assert [a["href"] for a in cards[1].find_all("a")] == [
        record_url(family["sam_rep"]),
        page_url(family["sam_rep"], "messaging:patient_list"),
    ]
    html = client.get(reverse("portal:home")).content.decode()
    assert record_url(family["alex_rep"]) not in html
    assert record_url(family["elsewhere"]) not in html


def test_home_audits_a_represented_chart_as_its_representative(client, family):
    sign_in(client, family["account"])
    client.get(reverse("portal:home"))

    listed = AuditEvent.objects.filter(action="phr.view", details__page="home")
    by_patient = {e.patient_id: e.acting_as for e in listed}
    assert by_patient[family["sam"].pk] == "parent"
    assert by_patient[family["own"].patient_id] == ""


# --- Who can see my record ------------------------------------------------------------------------


@pytest.fixture
def patients_reps(admin, patient):
    """The adult patient, enrolled, with a parent (enrolled, until 2031-01-31), a caregiver
    (invited) and a spouse whose access the practice revoked. Returns (account, reps)."""
    account = enroll(admin, patient)
    _a, parent = enroll_representative(admin, patient, ends_on=dt.date(2031, 1, 31))
    caregiver = invite_representative(admin, patient, name="Casey Care", relationship="caregiver")
    _b, spouse = enroll_representative(admin, patient, name="Pat Partner", relationship="spouse")
    portal.representative_revoke(admin, representative=spouse)
    return account, {"parent": parent, "caregiver": caregiver, "spouse": spouse}


def test_who_can_see_my_record_lists_every_representative_with_state_and_dates(
    client, patient, patients_reps
):
    account, reps = patients_reps
    sign_in(client, account)

    response = client.get(page_url(own_access(patient)))

    assert response.status_code == 200
    page = parse(response)
    assert page.one("h1").text == "Who can see my record"
    rows = {row[0]: row for row in table_rows(page)}
    assert sorted(rows) == ["Casey Care", "Jordan Rivera", "Pat Partner"]
    name, relationship, state, since, until, sees, action = rows["Jordan Rivera"]
    assert (relationship, state, until) == ("Parent", "Can see your record", "January 31, 2031")
    assert since and sees == "Your record, appointments and messages"
    assert "End access" in action
    assert rows["Casey Care"][1:3] == ["Caregiver", "Invited, not registered yet"]
    assert "End access" in rows["Casey Care"][6]
    assert rows["Pat Partner"][1:3] == ["Spouse or partner", "Ended by the practice"]
    assert rows["Pat Partner"][6] == ""  # nothing to end
    view = AuditEvent.objects.get(action="phr.view", details__page="representatives")
    assert view.actor == account and view.acting_as == ""


def test_the_page_is_linked_from_the_patients_own_record_only(client, admin, patient, practice):
    account = enroll(admin, patient)
    rep_account, rep = enroll_representative(admin, patient)
    sign_in(client, account)
    nav = parse(client.get(record_url(own_access(patient)))).one("nav", class_="record-nav")
    assert page_url(own_access(patient)) in [a["href"] for a in nav.find_all("a")]

    sign_in(client, rep_account)
    html = client.get(record_url(rep)).content.decode()
    assert "Who can see my record" not in html
    assert "/representatives/" not in html


def test_a_representative_is_refused_the_patients_page_with_a_clear_message(client, admin, patient):
    enroll(admin, patient)
    rep_account, rep = enroll_representative(admin, patient)
    _other, other_rep = enroll_representative(admin, patient, name="Casey Care")
    sign_in(client, rep_account)

    for response in (
        client.get(page_url(rep)),
        client.get(end_url(rep, other_rep)),
        client.post(end_url(rep, other_rep)),
    ):
        assert response.status_code == 403
        assert parse(response).one(class_="access-error").text == (
            "Only the patient can see who has access to their record and change it."
        )
        assert "Casey Care" not in response.content.decode()
    assert _state(other_rep) == AccessState.ACTIVE


def test_the_patient_ends_access_after_confirming_and_the_representatives_next_request_is_refused(
    client, admin, patient
):
    account = enroll(admin, patient)
    rep_account, rep = enroll_representative(admin, patient)
    rep_client = client.__class__()
    sign_in(rep_client, rep_account)
    assert rep_client.get(record_url(rep)).status_code == 200
    sign_in(client, account)

    ask = client.get(end_url(own_access(patient), rep))
    assert ask.status_code == 200
    page = parse(ask)
    assert page.one("h1").text == "End Jordan Rivera's access to your record?"
    assert page.one("main").one("button", type="submit").text == "End access"
    assert _state(rep) == AccessState.ACTIVE  # asking changes nothing

    done = client.post(end_url(own_access(patient), rep))
    assert done.status_code == 302 and done["Location"] == page_url(own_access(patient))
    after = parse(client.get(done["Location"]))
    assert "Jordan Rivera can no longer see your record." in after.text
    assert _state(rep) == AccessState.ENDED
    event = AuditEvent.objects.get(action="portal.representative_ended")
    assert event.actor == account and event.details["representative"] == str(rep.public_id)

    refused = rep_client.get(record_url(rep))
    assert refused.status_code == 403
    assert parse(refused).one(class_="access-error").text == str(NO_ACCESS_MESSAGE)
    assert str(NO_ACCESS_MESSAGE) == "Ask your doctor to provide access to your health records."


def test_ending_an_already_ended_access_says_so_and_changes_nothing(client, admin, patient):
    account = enroll(admin, patient)
    _rep_account, rep = enroll_representative(admin, patient)
    sign_in(client, account)
    client.post(end_url(own_access(patient), rep))

    again = client.post(end_url(own_access(patient), rep))
    assert again.status_code == 409
    assert parse(again).one(class_="access-error").text == "This person's access has already ended."
    assert AuditEvent.objects.filter(action="portal.representative_ended").count() == 1
    ask = parse(client.get(end_url(own_access(patient), rep)))
    assert ask.one(class_="access-error").text == "This person's access has already ended."
    assert ask.one("main").find("form") is None


def test_a_pending_invitation_is_ended_too(client, admin, patient):
    account = enroll(admin, patient)
    rep = invite_representative(admin, patient)
    sign_in(client, account)

    client.post(end_url(own_access(patient), rep))

    assert _state(rep) == AccessState.ENDED
    rep.current_invitation.refresh_from_db()
    assert rep.current_invitation.status == "cancelled"


def test_another_charts_representative_in_the_url_is_a_404(client, admin, patient, practice):
    account = enroll(admin, patient)
    other = make_patient(practice)
    _their_account, theirs = enroll_representative(admin, other)
    sign_in(client, account)

    for response in (
        client.get(end_url(own_access(patient), theirs)),
        client.post(end_url(own_access(patient), theirs)),
        client.post(renew_url(own_access(patient), theirs)),
    ):
        assert response.status_code == 404
    assert _state(theirs) == AccessState.ACTIVE
    assert not AuditEvent.objects.filter(action="portal.representative_ended").exists()


def test_another_accounts_page_is_a_404(client, admin, patient, practice):
    enroll(admin, patient)
    stranger = enroll(admin, make_patient(practice))
    sign_in(client, stranger)
    assert client.get(page_url(own_access(patient))).status_code == 404


def test_a_revoked_patient_gets_the_access_error_on_the_page(client, admin, patient):
    account = enroll(admin, patient)
    _rep_account, rep = enroll_representative(admin, patient)
    portal.access_revoke(admin, patient=patient)
    account.refresh_from_db()
    sign_in(client, account)

    for response in (
        client.get(page_url(own_access(patient))),
        client.post(end_url(own_access(patient), rep)),
    ):
        assert response.status_code == 403
        assert parse(response).one(class_="access-error").text == str(NO_ACCESS_MESSAGE)
    assert _state(rep) == AccessState.ACTIVE


# --- Growing up: from 12 the patient manages it; at 18 a parent's access ends, renewable -------


@pytest.fixture
def teen(admin, practice):
    """Sam, born 2014-03-10 at a practice in Honolulu, whose mother Jordan represents him."""
    practice.time_zone = "Pacific/Honolulu"
    practice.save()
    kid = make_patient(
        practice,
        legal_first_name="Sam",
        legal_last_name="Rivera",
        date_of_birth=dt.date(2014, 3, 10),
    )
    _account, mother = enroll_representative(admin, kid)
    return mother


def _on(day: dt.date, hour: int = 12) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=HONOLULU)


def test_a_child_under_12_sees_who_can_see_the_record_but_cannot_end_it(client, admin, teen):
    kid = teen.patient
    with time_machine.travel(_on(dt.date(2026, 3, 9)), tick=False):  # 11 years 364 days
        account = enroll(admin, kid)
        sign_in(client, account)
        page = parse(client.get(page_url(own_access(kid))))
        assert page.one(class_="access-error").text == (
            "Until you are 12, ask your practice to change who sees your record."
        )
        assert "End access" not in page.one("main").text
        for refused in (
            client.get(end_url(own_access(kid), teen)),
            client.post(end_url(own_access(kid), teen)),
        ):
            assert refused.status_code == 403
            assert parse(refused).one(class_="access-error").text == (
                "Until you are 12, ask your practice to change who sees your record."
            )
        # The service refuses it too (one rule for the page and any other caller).
        with pytest.raises(PermissionDenied):
            portal.representative_end(account, access=own_access(kid), representative=teen)
        assert _state(teen) == AccessState.ACTIVE


def test_from_12_the_patient_ends_a_parents_access(client, admin, teen):
    kid = teen.patient
    with time_machine.travel(_on(dt.date(2026, 3, 10), 0), tick=False):  # 12, at midnight
        account = enroll(admin, kid)
        sign_in(client, account)
        rows = table_rows(parse(client.get(page_url(own_access(kid)))))
        (row,) = rows
        assert row[5] == "Your record and appointments, not your messages"
        assert row[4] == "When you turn 18 (March 10, 2032)"
        client.post(end_url(own_access(kid), teen))
        assert _state(teen) == AccessState.ENDED


def test_the_adult_patient_renews_a_parents_access_ended_by_coming_of_age(client, admin, teen):
    kid = teen.patient
    parent_client = client.__class__()
    with time_machine.travel(_on(dt.date(2032, 3, 10), 0), tick=False):  # 18
        sign_in(parent_client, teen.account)
        assert parent_client.get(record_url(teen)).status_code == 403
        account = enroll(admin, kid)
        sign_in(client, account)
        (row,) = table_rows(parse(client.get(page_url(own_access(kid)))))
        assert row[2:4] == ["Ended", "March 10, 2032"]
        assert "Renew access" in row[6] and "End access" not in row[6]

        ask = parse(client.get(renew_url(own_access(kid), teen)))
        assert ask.one("h1").text == "Renew Jordan Rivera's access to your record?"
        assert _state(teen) == AccessState.ENDED
        done = client.post(renew_url(own_access(kid), teen))
        assert done.status_code == 302
        assert _state(teen) == AccessState.ACTIVE
        assert AuditEvent.objects.filter(action="portal.representative_renewed").count() == 1
        # The parent's next request opens the record, with messages: the patient is an adult.
        response = parent_client.get(record_url(teen))
        assert response.status_code == 200
        assert page_url(teen, "messaging:patient_list") in response.content.decode()


def test_renewing_access_that_did_not_end_with_coming_of_age_is_refused(client, admin, patient):
    account = enroll(admin, patient)
    _rep_account, caregiver = enroll_representative(admin, patient, relationship="caregiver")
    sign_in(client, account)

    response = client.post(renew_url(own_access(patient), caregiver))

    assert response.status_code == 409
    assert parse(response).one(class_="access-error").text == (
        "Only access that ended when you came of age can be renewed."
    )
    assert not AuditEvent.objects.filter(action="portal.representative_renewed").exists()
    assert Representative.objects.get(pk=caregiver.pk).renewed_at is None


# --- Every action a representative takes says whom they acted for -----------------------------


def test_a_representatives_appointment_request_records_acting_as(
    client,
    admin,
    practice,
    provider,
    profile,  # noqa: F811
    follow_up,  # noqa: F811
    now,  # noqa: F811
):
    kid = make_patient(practice, legal_first_name="Sam", date_of_birth=dt.date(2016, 5, 1))
    rep_account, rep = enroll_representative(admin, kid)
    tuesday, wednesday = dt.date(2026, 12, 8), dt.date(2026, 12, 9)
    appointment = scheduling.appointment_book(
        admin,
        patient=kid,
        provider=provider,
        appointment_type=follow_up,
        start_at=at(tuesday, 10),
        reason="Check-up",
    )
    sign_in(client, rep_account)

    response = client.post(
        reverse("booking:patient_reschedule", args=[rep.public_id, appointment.public_id]),
        {"start_at": at(wednesday, 14).isoformat()},
    )

    assert response.status_code == 302
    request = AppointmentRequest.objects.get(kind="reschedule")
    event = AuditEvent.objects.get(details__request=str(request.public_id))
    assert (event.actor, event.patient, event.acting_as) == (rep_account, kid, "parent")
