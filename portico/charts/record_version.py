"""The chart's record version: a counter raised by every change to its clinical record.

Renderings of the record (the patient's shared sections, the staff chart summary) are cached
under the chart's public id and this counter, so a change makes every cached copy unreachable
at once, in every process, without deleting anything. The counter is raised from model signals
rather than from each service so that no way of writing a clinical row can forget it: items of
every list, encounters and their amendments, saved or deleted.
"""

from __future__ import annotations

from django.db.models import F
from django.db.models.signals import post_delete, post_save

from portico.charts.models import CLINICAL_LISTS, Encounter, EncounterAmendment, Patient


def record_changed(patient_id: int) -> None:
    """Mark the chart's clinical record as changed (cached renderings of it are stale)."""
    Patient.objects.filter(pk=patient_id).update(record_version=F("record_version") + 1)


def _item_or_encounter_changed(sender, instance, **kwargs) -> None:
    record_changed(instance.patient_id)


def _amendment_changed(sender, instance, **kwargs) -> None:
    patient_id = (
        Encounter.objects.filter(pk=instance.encounter_id)
        .values_list("patient_id", flat=True)
        .first()
    )
    if patient_id is not None:
        record_changed(patient_id)


def connect() -> None:
    """Called once from ChartsConfig.ready()."""
    from portico.scheduling.models import Appointment

    for model in (*CLINICAL_LISTS.values(), Encounter, Appointment):
        uid = f"charts.record_version.{model._meta.label_lower}"
        post_save.connect(_item_or_encounter_changed, sender=model, dispatch_uid=uid + ".save")
        post_delete.connect(_item_or_encounter_changed, sender=model, dispatch_uid=uid + ".del")
    uid = "charts.record_version.amendment"
    post_save.connect(_amendment_changed, sender=EncounterAmendment, dispatch_uid=uid + ".save")
    post_delete.connect(_amendment_changed, sender=EncounterAmendment, dispatch_uid=uid + ".del")
