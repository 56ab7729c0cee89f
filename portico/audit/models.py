"""Append-only audit log: who, acting for whom, did what, to which patient, when, from where."""

from __future__ import annotations

from django.conf import settings
from django.db import models

APPEND_ONLY = "Audit events are append-only."


class AuditEventQuerySet(models.QuerySet):
    """Bulk writes skip Model.save and Model.delete, so they are refused here as well."""

    def update(self, **kwargs):
        raise RuntimeError(APPEND_ONLY)

    def bulk_update(self, objs, fields, batch_size=None):
        raise RuntimeError(APPEND_ONLY)

    def delete(self):
        raise RuntimeError(APPEND_ONLY)

    delete.queryset_only = True  # type: ignore[attr-defined]


class AuditEvent(models.Model):
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Kept even if the actor's name changes later; "system" for tasks, "patient" etc.
    actor_label = models.CharField(max_length=200, blank=True)
    practice = models.ForeignKey(
        "practices.Practice", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    patient = models.ForeignKey(
        "charts.Patient",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="audit_events",
    )
    action = models.CharField(max_length=64, db_index=True)
    # When the actor acted on the chart as the patient's representative: the relationship
    # ("parent"); empty when the actor acted as themselves (staff, the patient, the system).
    acting_as = models.CharField(max_length=16, blank=True, default="")
    # Non-PHI facts about the event (e.g. which invitation, old and new state).
    details = models.JSONField(default=dict, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["patient", "action", "created_at"])]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise RuntimeError(APPEND_ONLY)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise RuntimeError(APPEND_ONLY)
