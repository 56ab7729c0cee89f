"""The demo practice's intake (SPEC §10): both ready templates installed, "New patient" sent by
itself with every new-patient booking ("Follow-up visit" is sent by hand), and forms in
each state of the staff's Intake list: Jordan (the demo patient) has one waiting for her next
visit; another enrolled patient submitted one with a new allergy and a new address, waiting
for staff to accept them into the chart; a patient without portal access was sent one with a
link of its own.

Made through the services staff and patients use.
"""

from __future__ import annotations

from django.utils import timezone

from portico.charts.models import Patient
from portico.intake import services as intake
from portico.intake.models import IntakeTemplate
from portico.portal.models import AccessState
from portico.scheduling.models import Appointment, AppointmentStatus

TEMPLATES = {"New patient": "new_patient", "Follow-up visit": "follow_up"}
# Which template each demo visit type sends by itself.
VISIT_TYPE_TEMPLATES = {"New patient": "New patient"}

SUBMITTED_ANSWERS = {
    "address_line1": "48 Orchard Lane",
    "city": "Springfield",
    "state": "IL",
    "postal_code": "62711",
    "has_insurance": "yes",
    "insurer": "Prairie Health Plan",
    "member_id": "PHP-204518",
    "smoking": "never",
    "alcohol": "monthly_or_less",
    "allergies": {"added": [{"name": "Latex", "reaction": "Itchy rash"}]},
    "medications": {"added": [{"name": "Vitamin D3 1000 unit tablet", "instructions": "daily"}]},
}


def _next_appointment(patient: Patient) -> Appointment | None:
    return (
        Appointment.objects.filter(
            patient=patient, status=AppointmentStatus.BOOKED, start_at__gt=timezone.now()
        )
        .order_by("start_at")
        .first()
    )


def demo_intake_missing(practice) -> bool:
    return not IntakeTemplate.objects.filter(practice=practice).exists()


def give_demo_intake(admin, *, staff, practice, jordan: Patient) -> None:
    templates = {
        name: intake.ready_template_install(admin, practice=practice, which=which)
        for name, which in TEMPLATES.items()
    }
    for visit_type in practice.visit_types.filter(name__in=VISIT_TYPE_TEMPLATES):
        intake.visit_type_intake_set(
            admin, visit_type=visit_type, template=templates[VISIT_TYPE_TEMPLATES[visit_type.name]]
        )
    follow_up = templates["Follow-up visit"]
    new_patient = templates["New patient"]
    appointment = _next_appointment(jordan)
    if appointment is not None:
        intake.form_send(staff, appointment=appointment, template=follow_up)
    others = (
        Patient.objects.filter(practice=practice)
        .exclude(pk=jordan.pk)
        .exclude(representatives__isnull=False)
        .select_related("portal_access")
        .order_by("id")
    )
    enrolled = [p for p in others if _enrolled(p)]
    not_enrolled = [p for p in others if not _enrolled(p) and p.email]
    for patient in enrolled:
        appointment = _next_appointment(patient)
        if appointment is not None:
            form = intake.form_send(staff, appointment=appointment, template=new_patient)
            account = patient.portal_access.account
            consent = {"agreed": True, "signature": patient.full_name}
            intake.form_save(
                account, form=form, answers={**SUBMITTED_ANSWERS, "consent_to_treat": consent}
            )
            intake.form_submit(account, form=form)
            break
    for patient in not_enrolled:
        appointment = _next_appointment(patient)
        if appointment is not None:
            intake.form_send(staff, appointment=appointment, template=follow_up)
            break


def _enrolled(patient: Patient) -> bool:
    access = getattr(patient, "portal_access", None)
    return access is not None and access.state == AccessState.ACTIVE and access.account_id
