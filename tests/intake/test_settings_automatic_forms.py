"""EHR Settings > Intake > Forms sent automatically: each visit type offered for booking sends
the chosen template by itself when an appointment of it is booked (services.
visit_type_intake_set, intake.auto_send)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from portico.intake import services
from portico.intake.models import IntakeForm, VisitTypeIntake
from portico.scheduling.services import appointment_book, visit_type_save
from tests.factories import sign_in
from tests.intake.conftest import at

pytestmark = pytest.mark.django_db


def field(visit_type) -> str:
    return f"visit_type_{visit_type.public_id}"


def save(client, **choices):
    return client.post(reverse("intake:settings"), {"form": "automatic", **choices})


@pytest.fixture
def signed_in(now, client, admin):
    sign_in(client, admin)
    return client


def test_each_active_visit_type_is_listed_with_what_it_sends_now(
    signed_in, admin, practice, follow_up, new_patient_visit, new_patient_template
):
    services.visit_type_intake_set(
        admin, visit_type=new_patient_visit, template=new_patient_template
    )
    visit_type_save(
        admin,
        practice=practice,
        visit_type=follow_up,
        name="Follow-up",
        duration_minutes=20,
        is_active=False,
    )
    page = signed_in.get(reverse("intake:settings")).content.decode()
    select = page.split(f'name="{field(new_patient_visit)}"')[1].split("</select>")[0]
    assert f'<option value="{new_patient_template.public_id}" selected>New patient' in select
    assert field(follow_up) not in page  # retired visit types are not offered


def test_choosing_a_template_for_a_visit_type_sends_it_when_one_is_booked(
    signed_in,
    staff,
    patient,
    provider,
    hours,
    follow_up,
    new_patient_visit,
    follow_up_template,
):
    response = save(
        signed_in,
        **{field(follow_up): str(follow_up_template.public_id), field(new_patient_visit): ""},
    )
    assert response.status_code == 302
    rule = VisitTypeIntake.objects.get(visit_type=follow_up)
    assert rule.template == follow_up_template
    assert not VisitTypeIntake.objects.filter(visit_type=new_patient_visit).exists()

    appointment = appointment_book(
        staff,
        patient=patient,
        provider=provider,
        appointment_type=follow_up,
        start_at=at(dt.date(2026, 12, 9), 10),
    )
    sent = IntakeForm.objects.get(appointment=appointment)
    assert sent.template == follow_up_template
    assert sent.version == follow_up_template.current_version
    assert sent.sent_how == "booking"

    other = appointment_book(
        staff,
        patient=patient,
        provider=provider,
        appointment_type=new_patient_visit,
        start_at=at(dt.date(2026, 12, 9), 14),
    )
    assert not IntakeForm.objects.filter(appointment=other).exists()


def test_no_form_stops_a_visit_type_sending_one(
    signed_in, admin, follow_up, follow_up_template, new_patient_visit
):
    services.visit_type_intake_set(admin, visit_type=follow_up, template=follow_up_template)
    response = save(signed_in, **{field(follow_up): "", field(new_patient_visit): ""})
    assert response.status_code == 302
    assert not VisitTypeIntake.objects.filter(visit_type=follow_up).exists()


def test_a_retired_or_unknown_template_is_refused_and_nothing_changes(
    signed_in,
    admin,
    outsider,
    other_practice,
    follow_up,
    new_patient_visit,
    follow_up_template,
    new_patient_template,
):
    services.template_active_set(admin, template=new_patient_template, active=False)
    theirs = services.template_create(outsider, practice=other_practice, name="Theirs")
    for bad in (new_patient_template.public_id, theirs.public_id, "not-a-uuid"):
        response = save(
            signed_in,
            **{
                field(follow_up): str(follow_up_template.public_id),
                field(new_patient_visit): str(bad),
            },
        )
        assert response.status_code == 400
        page = response.content.decode()
        assert f'id="{field(new_patient_visit)}_error"' in page
        assert "Choose one of the practice&#x27;s templates, or “No form”." in page
        assert not VisitTypeIntake.objects.exists()


def test_retiring_a_template_stops_the_visit_types_that_sent_it(
    signed_in, admin, follow_up, follow_up_template
):
    services.visit_type_intake_set(admin, visit_type=follow_up, template=follow_up_template)
    signed_in.post(
        reverse("intake:settings_active", args=[follow_up_template.public_id]), {"active": "off"}
    )
    assert not VisitTypeIntake.objects.filter(visit_type=follow_up).exists()
    page = signed_in.get(reverse("intake:settings")).content.decode()
    select = page.split(f'name="{field(follow_up)}"')[1].split("</select>")[0]
    assert '<option value="" selected>No form' in select
    assert str(follow_up_template.public_id) not in select


def test_only_administrators_choose_the_automatic_forms(
    now, client, staff, follow_up, follow_up_template
):
    sign_in(client, staff)
    response = save(client, **{field(follow_up): str(follow_up_template.public_id)})
    assert response.status_code == 403
    assert not VisitTypeIntake.objects.exists()
