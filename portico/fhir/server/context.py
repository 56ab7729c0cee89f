"""Whose record a request reads and as whom, and how the server's resources refer to each
other."""

from __future__ import annotations

import functools
import zoneinfo
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings

from portico.portal import representation
from portico.records.fhir import BundleRefs

if TYPE_CHECKING:
    from portico.charts.models import Patient
    from portico.practices.models import Practice


@dataclass(frozen=True)
class Reader:
    """The record an app reads: the connection's patient and practice, with or without what
    is confidential from representatives (the portal access's scope), and the token's scopes."""

    patient: Patient
    practice: Practice
    confidential: bool
    scopes: tuple[str, ...]

    @classmethod
    def of(cls, caller) -> Reader:
        return cls(
            patient=caller.patient,
            practice=caller.connection.practice,
            confidential=representation.scope_of(caller.access).confidential,
            scopes=caller.scopes,
        )

    @property
    def subject(self) -> str:
        return f"Patient/{self.patient.public_id}"

    @functools.cached_property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.practice.time_zone)

    @functools.cached_property
    def refs(self) -> ServerRefs:
        return ServerRefs(self)


class ServerRefs(BundleRefs):
    """References the server answers: relative ("Encounter/<id>"), each naming something the
    reader may read (a visit only when it is visible to them; a user only when they are a
    Practitioner of the patient's practice, else the name alone).

    Rows come marked by portico.fhir.server.resources.prepare: an item's `visible_encounter_id`,
    and `<role>_is_practitioner` for each user a row names."""

    def __init__(self, reader: Reader):
        self.reader = reader

    def organization(self) -> str:
        return f"Organization/{self.reader.practice.public_id}"

    def practitioner(self, row, role: str) -> str | None:
        if not getattr(row, f"{role}_is_practitioner", False):
            return None
        return f"Practitioner/{getattr(row, role).public_id}"

    def item_encounter(self, item) -> str | None:
        visible = getattr(item, "visible_encounter_id", None)
        return f"Encounter/{visible}" if visible else None

    def encounter(self, encounter) -> str:
        return f"Encounter/{encounter.public_id}"

    def visit_note_id(self, encounter) -> str:
        # The note is read back by its visit's id (DocumentReference/<encounter id>).
        return str(encounter.public_id)


def full_url(resource_type: str, resource_id: str) -> str:
    return f"{settings.PORTICO_FHIR_BASE_URL}/{resource_type}/{resource_id}"
