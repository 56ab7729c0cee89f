"""core.bulk writes rows without Model.save, so it refuses any model it cannot write as the ORM
would: one a signal receiver listens to, or one with a field type it does not convert."""

import pytest
from django.db.models.signals import post_save, pre_init

from portico.audit.models import AuditEvent
from portico.charts.models import Vital
from portico.core.bulk import BulkInsertRefused, check_insertable, insert_rows
from portico.notifications.models import OutboundEmail
from portico.portal.models import Invitation, PortalAccess

pytestmark = pytest.mark.django_db


def _receiver(sender, **kwargs):
    pass


@pytest.mark.parametrize("signal", [post_save, pre_init], ids=["post_save", "pre_init"])
def test_a_model_with_a_signal_receiver_is_refused(signal, practice, patient):
    signal.connect(_receiver, sender=AuditEvent)
    try:
        with pytest.raises(BulkInsertRefused, match="receiver"):
            insert_rows(AuditEvent, [{"action": "x", "practice_id": practice.pk}])
    finally:
        signal.disconnect(_receiver, sender=AuditEvent)
    assert not AuditEvent.objects.filter(action="x").exists()


def test_a_model_with_a_field_type_it_does_not_convert_is_refused(patient):
    # Vital.value is a DecimalField, which the drivers do not all take as it is.
    with pytest.raises(BulkInsertRefused, match="DecimalField"):
        insert_rows(Vital, [{"patient_id": patient.pk, "practice_id": patient.practice_id}])
    assert not Vital.objects.exists()


@pytest.mark.parametrize("model", [PortalAccess, Invitation, AuditEvent, OutboundEmail])
def test_the_batch_paths_models_are_plain_enough_for_it(model):
    check_insertable(model)  # raises when a receiver listens or a field type is unconverted


def test_a_row_it_writes_reads_back_as_the_orm_wrote_it(admin, practice, patient):
    insert_rows(
        AuditEvent,
        [
            {
                "actor_id": admin.pk,
                "actor_label": "Ada Admin",
                "practice_id": practice.pk,
                "patient_id": patient.pk,
                "action": "chart.view",
                "details": {"page": "chart"},
                "ip_address": "203.0.113.9",
                "user_agent": "Firefox",
            }
        ],
    )
    event = AuditEvent.objects.get(action="chart.view")
    assert (event.actor, event.patient, event.details, event.ip_address) == (
        admin,
        patient,
        {"page": "chart"},
        "203.0.113.9",
    )
    assert event.created_at is not None
