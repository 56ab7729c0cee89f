"""The demo practice's intake (demo.intake): both ready templates, sent by themselves with
new-patient bookings, and forms in each state of the Intake list; `make demo`
adds them only to a demo database without them."""

import pytest
from django.core.management import call_command

from portico.charts.models import Patient
from portico.demo import seed as demo
from portico.intake.models import FormStatus, IntakeForm, IntakeTemplate, VisitTypeIntake
from portico.intake.review import review_items
from portico.practices.models import Practice


@pytest.fixture
def seeded(db):
    call_command("seed_demo")
    return Practice.objects.get(slug=demo.DEMO_SLUG)


def test_the_demo_has_the_ready_templates_sent_with_bookings_and_forms_to_work_on(seeded):
    assert set(IntakeTemplate.objects.filter(practice=seeded).values_list("name", flat=True)) == {
        "New patient",
        "Follow-up visit",
    }
    rules = {r.visit_type.name: r.template.name for r in VisitTypeIntake.objects.all()}
    assert rules == {"New patient": "New patient"}
    jordan = Patient.objects.get(practice=seeded, email=demo.PATIENT_EMAIL)
    assert IntakeForm.objects.get(patient=jordan).status == FormStatus.SENT
    submitted = IntakeForm.objects.get(practice=seeded, status=FormStatus.SUBMITTED)
    kinds = {item.kind for item in review_items(submitted)}
    assert {"new_allergy", "new_medication", "demographic"} <= kinds
    linked = IntakeForm.objects.exclude(link_token_hash="").get(practice=seeded)
    assert linked.status == FormStatus.SENT


def test_make_demo_adds_intake_to_a_demo_database_without_it_once(seeded):
    IntakeForm.objects.all().delete()
    VisitTypeIntake.objects.all().delete()
    IntakeTemplate.objects.all().delete()
    demo.demo_intake()
    demo.demo_intake()
    assert IntakeTemplate.objects.filter(practice=seeded).count() == 2
    assert IntakeForm.objects.filter(status=FormStatus.SUBMITTED).count() == 1
