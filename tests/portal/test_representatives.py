"""SPEC §9: authorized representatives — invited by staff, registered like a patient in the
same states, several records in one account, the patient ending a representative's access,
and a parent's access narrowing and ending as the patient grows up (portal.representation)."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from portico.audit.models import AuditEvent
from portico.notifications.models import OutboundEmail
from portico.portal import registration, representation
from portico.portal import selectors as portal_selectors
from portico.portal import services as portal
from portico.portal.models import (
    AccessState,
    Invitation,
    InvitationStatus,
    PortalAccess,
    Relationship,
)
from portico.portal.services import NO_ACCESS_MESSAGE, InvalidTransition
from tests.factories import (
    PASSWORD,
    enroll,
    enroll_representative,
    invite,
    invite_representative,
    make_patient,
    make_user,
    sign_in,
)

pytestmark = pytest.mark.django_db


def own_access(patient) -> PortalAccess:
    return PortalAccess.objects.get(patient=patient)


def _state(representative) -> str:
    representative.refresh_from_db()
    return representative.effective_state


# --- Invite and register -------------------------------------------------------------------------


@pytest.mark.parametrize("relationship", Relationship.values)
def test_each_relationship_is_invited_and_registers_like_a_patient(admin, patient, relationship):
    representative = invite_representative(
        admin, patient, relationship=relationship, email="Rep@Example.test"
    )
    invitation = representative.current_invitation
    assert _state(representative) == AccessState.INVITED
    assert invitation.representative == representative and invitation.email == "rep@example.test"
    email = OutboundEmail.objects.get(subject_id=invitation.public_id)
    assert email.to_address == "rep@example.test" and email.kind == portal.ENROLLMENT_EMAIL

    # The representative proves it with the patient's date of birth and their own code.
    registration.registration_verify(
        token=registration.tokens.link_token(invitation.link_nonce),
        date_of_birth=patient.date_of_birth,
        access_code=invitation.access_code,
    )
    account = registration.registration_create_account(
        invitation_id=str(invitation.public_id), email="rep@example.test", password=PASSWORD
    )
    assert _state(representative) == AccessState.ACTIVE
    assert representative.account == account
    assert portal_selectors.patient_access_list(account) == [representative]
    event = AuditEvent.objects.get(action="portal.representative_register")
    assert event.patient == patient and event.details["relationship"] == relationship


def test_the_patients_own_access_and_a_representatives_keep_their_own_invitations(admin, patient):
    own = invite(admin, patient)
    representative = invite_representative(admin, patient)
    theirs = representative.current_invitation
    # Re-inviting the patient kills only the patient's earlier code, and the other way round.
    portal.invitation_resend(admin, patient=patient)
    assert Invitation.objects.get(pk=theirs.pk).status == InvitationStatus.PENDING
    assert Invitation.objects.get(pk=own.pk).status == InvitationStatus.SUPERSEDED
    newest_own = own_access(patient).current_invitation
    portal.representative_resend(admin, representative=representative)
    assert Invitation.objects.get(pk=theirs.pk).status == InvitationStatus.SUPERSEDED
    assert Invitation.objects.get(pk=newest_own.pk).status == InvitationStatus.PENDING


def test_a_representative_links_the_record_to_their_own_patient_account(admin, practice, patient):
    mother = make_patient(practice, legal_first_name="Jordan", legal_last_name="Rivera")
    account = enroll(admin, mother)
    _account, representative = enroll_representative(admin, patient, account=account)
    accesses = portal_selectors.patient_access_list(account)
    assert [a.patient for a in accesses] == [mother, patient]
    assert accesses[1] == representative and accesses[1].is_representative


def test_resend_cancel_revoke_and_reinvite_follow_the_patients_states(admin, patient):
    representative = invite_representative(admin, patient)
    portal.representative_cancel(admin, representative=representative)
    assert _state(representative) == AccessState.CANCELLED
    with pytest.raises(InvalidTransition):
        portal.representative_resend(admin, representative=representative)
    portal.representative_reinvite(admin, representative=representative)
    assert _state(representative) == AccessState.INVITED
    invitation = representative.current_invitation
    account = registration.registration_create_account(
        invitation_id=str(invitation.public_id), email=invitation.email, password=PASSWORD
    )
    assert _state(representative) == AccessState.ACTIVE
    portal.representative_revoke(admin, representative=representative)
    assert _state(representative) == AccessState.REVOKED
    assert portal_selectors.patient_access_list(account)[0].effective_state == "revoked"


def test_revoking_the_patient_leaves_the_representatives_and_the_other_way_round(admin, patient):
    enroll(admin, patient)
    _account, representative = enroll_representative(admin, patient)
    portal.access_revoke(admin, patient=patient)
    assert _state(representative) == AccessState.ACTIVE
    portal.invitation_issue(admin, patient=patient)
    portal.representative_revoke(admin, representative=representative)
    assert own_access(patient).state == AccessState.INVITED


# --- Bad input and tenancy -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "change, field",
    [
        ({"name": "  "}, "name"),
        ({"relationship": "neighbour"}, "relationship"),
        ({"email": "not an email"}, "email"),
        ({"email": ""}, "email"),
        ({"ends_on": dt.date(2000, 1, 1)}, "ends_on"),
        ({"phone": "12"}, "phone"),
    ],
)
def test_a_bad_invitation_says_what_is_wrong_and_stores_nothing(admin, patient, change, field):
    with pytest.raises(ValidationError) as caught:
        invite_representative(admin, patient, **change)
    assert field in caught.value.message_dict
    assert not patient.representatives.exists()
    assert not Invitation.objects.exists()


def test_staff_of_another_practice_or_without_the_right_cannot_invite(
    patient, outsider, non_inviter
):
    for actor in (outsider, non_inviter):
        with pytest.raises(PermissionDenied):
            invite_representative(actor, patient)
    assert not patient.representatives.exists()


# --- The patient sees and ends a representative's access ----------------------------------------


def test_the_patient_ends_a_representatives_access_and_their_next_request_is_refused(
    client, admin, patient
):
    patient_account = enroll(admin, patient)
    rep_account, representative = enroll_representative(admin, patient)
    sign_in(client, rep_account)
    page = reverse("records:record", kwargs={"access_id": representative.public_id})
    assert client.get(page).status_code == 200

    own = own_access(patient)
    portal.representative_end(patient_account, access=own, representative=representative)
    response = client.get(page)
    assert response.status_code == 403
    assert str(NO_ACCESS_MESSAGE) in response.content.decode()
    assert _state(representative) == AccessState.ENDED
    event = AuditEvent.objects.get(action="portal.representative_ended")
    assert event.actor == patient_account and event.patient == patient


def test_only_the_patient_may_end_a_representatives_access(admin, practice, patient):
    enroll(admin, patient)
    rep_account, representative = enroll_representative(admin, patient)
    other = make_patient(practice)
    other_account = enroll(admin, other)
    with pytest.raises(PermissionDenied):  # another patient's own access
        portal.representative_end(
            other_account, access=own_access(other), representative=representative
        )
    with pytest.raises(PermissionDenied):  # the representative themselves
        portal.representative_end(rep_account, access=representative, representative=representative)
    assert _state(representative) == AccessState.ACTIVE


# --- Audit: acting for ---------------------------------------------------------------------------


def test_a_representatives_reads_record_the_relationship_and_the_patients_own_do_not(
    client, admin, patient
):
    patient_account = enroll(admin, patient)
    rep_account, representative = enroll_representative(admin, patient, relationship="caregiver")
    sign_in(client, rep_account)
    client.get(reverse("records:record", kwargs={"access_id": representative.public_id}))
    read = AuditEvent.objects.filter(action="phr.view", actor=rep_account).get()
    assert read.patient == patient and read.acting_as == "caregiver"
    sign_in(client, patient_account)
    client.get(reverse("records:record", kwargs={"access_id": own_access(patient).public_id}))
    own = AuditEvent.objects.filter(action="phr.view", actor=patient_account).get()
    assert own.acting_as == ""


# --- Growing up: narrowing at 12, ending at 18 --------------------------------------------------

HONOLULU = zoneinfo.ZoneInfo("Pacific/Honolulu")


def _at(day: dt.date, hour: int = 12, zone=HONOLULU) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=zone)


@pytest.fixture
def child(admin, practice):
    """A child born 2014-03-10, whose mother represents them, at a practice in Honolulu."""
    practice.time_zone = "Pacific/Honolulu"
    practice.save()
    kid = make_patient(practice, legal_first_name="Sam", date_of_birth=dt.date(2014, 3, 10))
    _account, representative = enroll_representative(admin, kid)
    return representative


@pytest.mark.parametrize(
    "moment, narrowed, ended",
    [
        (_at(dt.date(2026, 3, 9)), False, False),  # 11 years 364 days
        (_at(dt.date(2026, 3, 10), 0), True, False),  # 12 at midnight in Honolulu
        (_at(dt.date(2032, 3, 9), 23), True, False),  # 17 years 364 days, late evening
        (_at(dt.date(2032, 3, 10), 0), False, True),  # 18
    ],
)
def test_a_parents_access_narrows_at_12_and_ends_at_18_in_the_practices_time_zone(
    child, moment, narrowed, ended
):
    with time_machine.travel(moment, tick=False):
        representative = portal_selectors.representative_of(child.patient, child.public_id)
        assert representation.is_narrowed(representative) is narrowed
        assert (representative.effective_state == AccessState.ENDED) is ended


def test_at_utc_midnight_the_birthday_has_not_yet_come_in_honolulu(child):
    # 2026-03-10 05:00 UTC is still 2026-03-09 in Honolulu: the child is 11 there.
    with time_machine.travel(dt.datetime(2026, 3, 10, 5, tzinfo=dt.UTC), tick=False):
        representative = portal_selectors.representative_of(child.patient, child.public_id)
        assert not representation.is_narrowed(representative)


@pytest.mark.parametrize(
    "day, age",
    [
        (dt.date(2023, 2, 28), 10),
        (dt.date(2023, 3, 1), 11),  # not a leap year: the birthday is 1 March
        (dt.date(2024, 2, 28), 11),
        (dt.date(2024, 2, 29), 12),
    ],
)
def test_a_patient_born_on_29_february_has_birthdays_on_1_march_in_other_years(day, age):
    assert representation.age_on(dt.date(2012, 2, 29), day) == age


def test_a_leap_day_childs_parent_loses_access_on_1_march_of_their_18th_year(admin, practice):
    kid = make_patient(practice, date_of_birth=dt.date(2012, 2, 29))
    _account, parent = enroll_representative(admin, kid)
    zone = zoneinfo.ZoneInfo(practice.time_zone)
    # 12 falls in a leap year (2024): narrowed on 29 February itself.
    with time_machine.travel(dt.datetime(2024, 2, 28, 23, tzinfo=zone), tick=False):
        assert not representation.is_narrowed(parent)
    with time_machine.travel(dt.datetime(2024, 2, 29, 0, 30, tzinfo=zone), tick=False):
        assert representation.is_narrowed(parent)
    # 18 does not (2030): the access ends on 1 March.
    with time_machine.travel(dt.datetime(2030, 2, 28, 23, tzinfo=zone), tick=False):
        assert _state(parent) == AccessState.ACTIVE
    with time_machine.travel(dt.datetime(2030, 3, 1, 0, 30, tzinfo=zone), tick=False):
        assert _state(parent) == AccessState.ENDED


def test_a_parents_access_narrowing_is_the_practices_choice_of_ages(child):
    practice = child.practice
    practice.representative_narrow_age, practice.representative_end_age = 13, 19
    practice.save()
    with time_machine.travel(_at(dt.date(2026, 6, 1)), tick=False):  # 12
        assert not representation.is_narrowed(
            portal_selectors.representative_of(child.patient, child.public_id)
        )
    with time_machine.travel(_at(dt.date(2032, 6, 1)), tick=False):  # 18
        representative = portal_selectors.representative_of(child.patient, child.public_id)
        assert representative.effective_state == AccessState.ACTIVE


def test_a_caregivers_access_does_not_narrow_or_end_with_age(admin, practice):
    kid = make_patient(practice, date_of_birth=dt.date(2000, 1, 1))
    _account, caregiver = enroll_representative(admin, kid, relationship="caregiver")
    assert not representation.is_narrowed(caregiver)
    assert caregiver.effective_state == AccessState.ACTIVE
    assert representation.scope_of(caregiver).confidential is False


def test_the_adult_patient_renews_a_parents_access_ended_by_coming_of_age(admin, child):
    patient = child.patient
    with time_machine.travel(_at(dt.date(2032, 3, 11)), tick=False):
        patient_account = enroll(admin, patient)
        representative = portal_selectors.representative_of(patient, child.public_id)
        assert representative.effective_state == AccessState.ENDED
        portal.representative_renew(
            patient_account, access=own_access(patient), representative=representative
        )
        representative = portal_selectors.representative_of(patient, child.public_id)
        assert representative.effective_state == AccessState.ACTIVE
        assert not representation.is_narrowed(representative)


def test_a_parent_invited_again_after_the_patient_came_of_age_keeps_the_new_access(admin, child):
    patient = child.patient
    with time_machine.travel(_at(dt.date(2032, 3, 11)), tick=False):
        representative = portal_selectors.representative_of(patient, child.public_id)
        assert representative.effective_state == AccessState.ENDED
        invitation = portal.representative_reinvite(admin, representative=representative)
        registration.registration_link_account(
            representative.account, invitation_id=str(invitation.public_id)
        )
        again = portal_selectors.representative_of(patient, child.public_id)
        assert again.effective_state == AccessState.ACTIVE
        assert representation.scope_of(again) == representation.REPRESENTATIVE_SCOPE


def test_a_guardian_the_practice_invites_for_an_adult_is_neither_narrowed_nor_ended(admin, patient):
    _account, guardian = enroll_representative(admin, patient, relationship="guardian")
    assert _state(guardian) == AccessState.ACTIVE
    assert representation.scope_of(guardian) == representation.REPRESENTATIVE_SCOPE


def test_an_end_date_ends_the_access_after_that_day(admin, practice, patient):
    _account, representative = enroll_representative(
        admin, patient, relationship="caregiver", ends_on=dt.date(2030, 1, 31)
    )
    zone = zoneinfo.ZoneInfo(practice.time_zone)
    with time_machine.travel(dt.datetime(2030, 1, 31, 23, 59, tzinfo=zone), tick=False):
        assert _state(representative) == AccessState.ACTIVE
    with time_machine.travel(dt.datetime(2030, 2, 1, 0, 1, tzinfo=zone), tick=False):
        assert _state(representative) == AccessState.ENDED


def test_make_user_is_not_a_representative(practice):
    assert portal_selectors.patient_access_list(make_user()) == []
