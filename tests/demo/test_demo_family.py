"""The demo family (demo.family): Jordan Rivera, the demo patient, is the enrolled parent of
Sam (10) and Riley (15) on her own account; Riley's record is an adolescent's, so her access to
it is narrowed; `make demo` adds it only to a demo database without it."""

import pytest
from django.core.management import call_command

from portico.accounts.models import User
from portico.demo import family
from portico.demo import seed as demo
from portico.portal import representation
from portico.portal import selectors as portal_selectors
from portico.portal.models import AccessState, Representative
from portico.practices.models import Practice


@pytest.fixture
def seeded(db):
    call_command("seed_demo")
    return Practice.objects.get(slug=demo.DEMO_SLUG)


def test_the_demo_patient_opens_her_record_and_her_two_childrens_from_one_account(seeded):
    account = User.objects.get(email=demo.PATIENT_EMAIL)
    accesses = portal_selectors.patient_access_list(account)
    assert [a.patient.legal_first_name for a in accesses] == ["Jordan", "Riley", "Sam"]
    assert all(a.effective_state == AccessState.ACTIVE for a in accesses)
    own, riley, sam = accesses
    assert not own.is_representative
    assert (riley.relationship, sam.relationship) == ("parent", "parent")
    today = representation.practice_today(seeded)
    assert representation.age_on(sam.patient.date_of_birth, today) == 10
    assert representation.age_on(riley.patient.date_of_birth, today) == 15
    assert representation.scope_of(sam) == representation.REPRESENTATIVE_SCOPE
    assert representation.scope_of(riley) == representation.ADOLESCENT_SCOPE


def test_the_teenagers_record_has_a_problem_kept_from_her_parent(seeded):
    from portico.charts.models import Problem
    from portico.records import selectors as records

    account = User.objects.get(email=demo.PATIENT_EMAIL)
    _own, riley, _sam = portal_selectors.patient_access_list(account)
    problem = Problem.objects.get(patient=riley.patient, code=family.CONFIDENTIAL_PROBLEM)
    assert problem.shared_with_patient and problem.confidential_from_representatives
    assert problem not in list(records.record_of(riley).problems)  # Jordan, her parent
    assert problem in list(records.shared_record(riley.patient).problems)  # Riley herself


def test_the_family_is_added_to_a_demo_database_only_when_it_has_none(seeded):
    from portico.charts.models import Patient

    demo.demo_family()  # `make demo` calls it on every start
    assert Representative.objects.filter(practice=seeded).count() == 2
    assert Patient.objects.filter(practice=seeded, legal_first_name="Sam").count() == 1
