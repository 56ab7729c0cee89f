"""The SMART on FHIR scopes Portico grants (SMART App Launch v2, with the v1 spelling).

Apps read, never write: `patient/<type>.rs` (read and search), `.r`, `.s`, and v1's
`patient/<type>.read`, for each resource type the server has or `*` for all of them; plus
`openid` and `fhirUser` (an ID token naming the patient), `launch/patient` (the token response
names the patient whose record was picked) and `offline_access` (a refresh token). An app that
asks for anything else (writing, `user/` scopes) is refused by the authorization server.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from oauth2_provider.scopes import BaseScopes

# The resource types the server reads and searches, with what each holds as the consent page
# names it. Keep in step with portico.fhir.server's routes: tests check both against the
# CapabilityStatement.
RESOURCE_TYPES = {
    "Patient": _("Details: name, date of birth, sex, contact details"),
    "AllergyIntolerance": _("Allergies"),
    "Condition": _("Health issues"),
    "MedicationRequest": _("Medications"),
    "Immunization": _("Immunizations"),
    "Procedure": _("Procedures"),
    "Observation": _("Lab results, vital signs, screenings and assessments"),
    "Encounter": _("Visits"),
    "CarePlan": _("Care plans"),
    "Appointment": _("Appointments"),
    "DocumentReference": _("Visit summaries"),
    "Practitioner": _("Names of the care team"),
    "Organization": _("The practice's name and contact details"),
}

# v2 permissions and the v1 "read": which of read ("r") and search ("s") each allows.
PERMISSIONS = {"rs": {"r", "s"}, "r": {"r"}, "s": {"s"}, "read": {"r", "s"}}

OTHER_SCOPES = {
    "openid": _("Confirm who you are to the app"),
    "fhirUser": _("Tell the app which patient you are"),
    "launch/patient": _("Know which record you picked"),
    "offline_access": _("Keep reading while you are away, until you disconnect it"),
}


def _all_scopes() -> dict:
    scopes = dict(OTHER_SCOPES)
    for permission in PERMISSIONS:
        scopes[f"patient/*.{permission}"] = _("Everything the practice shared with you")
        for resource_type, what in RESOURCE_TYPES.items():
            scopes[f"patient/{resource_type}.{permission}"] = what
    return scopes


ALL_SCOPES = _all_scopes()


class SmartScopes(BaseScopes):
    """django-oauth-toolkit's scopes backend (OAUTH2_PROVIDER["SCOPES_BACKEND_CLASS"])."""

    def get_all_scopes(self):
        return ALL_SCOPES

    def get_available_scopes(self, application=None, request=None, *args, **kwargs):
        return list(ALL_SCOPES)

    def get_default_scopes(self, application=None, request=None, *args, **kwargs):
        # An app that names no scope gets the patient's record, read and search.
        return ["launch/patient", "patient/*.rs"]


def allowed(scopes, resource_type: str, interaction: str) -> bool:
    """Whether `scopes` let an app `interaction` ("r": read, "s": search) `resource_type`."""
    for scope in scopes:
        compartment, _slash, rest = scope.partition("/")
        if compartment != "patient" or "." not in rest:
            continue
        name, permission = rest.rsplit(".", 1)
        if name in ("*", resource_type) and interaction in PERMISSIONS.get(permission, ()):
            return True
    return False


def readable_types(scopes) -> list[str]:
    """The resource types `scopes` let an app read or search, in the server's order."""
    return [t for t in RESOURCE_TYPES if allowed(scopes, t, "r") or allowed(scopes, t, "s")]


def consent_lines(scopes) -> list[str]:
    """What the consent page lists: each kind of record the app would read, then the rest."""
    types = readable_types(scopes)
    lines = [str(RESOURCE_TYPES[t]) for t in types]
    lines += [str(OTHER_SCOPES[s]) for s in OTHER_SCOPES if s in scopes]
    return lines
