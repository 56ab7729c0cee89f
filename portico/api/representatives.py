"""A chart's authorized representatives through the API (SPEC §9.1): list them, invite one,
read one, correct their details, and resend, cancel, revoke or invite again. Each handler
calls the same service or selector as the chart's "Patient portal access" window; who may
change what is the services' rule (staff who may invite patients), else 403.

Ids are public ids. A chart is named by its id under /patients (another practice's chart is a
404); a representative by its own id under /representatives, looked up among the token's
practice's charts (another practice's is a 404). Every answer that shows a representative (a
list, one, or one after an action: names, relationships, the live access code) is audited as
a read of the chart, as the portal window is.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from uuid import UUID

from django.http import Http404
from ninja import Field, Router, Schema, Status
from pydantic import WithJsonSchema

from portico.api.schemas import (
    EMAIL_ALSO,
    EMAIL_MAX_LENGTH,
    EMAIL_SCHEMA,
    PHONE_ALSO,
    PHONE_MAX_LENGTH,
    CleanStr,
    EmailOrNull,
    ErrorOut,
    InputSchema,
    IsoDate,
    PhoneOrBlank,
    PhoneOrBlankOrNull,
    text_field,
)
from portico.charts import selectors as chart_selectors
from portico.charts import services as chart_services
from portico.portal import selectors as portal_selectors
from portico.portal import services as portal_services
from portico.portal.models import Relationship, Representative
from portico.practices import permissions

router = Router(tags=["representatives"])

ERRORS = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    409: ErrorOut,
    422: ErrorOut,
}

Email = Annotated[CleanStr, WithJsonSchema(EMAIL_SCHEMA)]
END_DATE = (
    "The representative's last day of access (YYYY-MM-DD, not in the past), or null for no end "
    "date. A parent's or legal guardian's access to a child's record also ends when the child "
    "comes of age (the practice's settings), unless the adult patient renews it."
)


# --- Shapes --------------------------------------------------------------------------------


class RepresentativeOut(Schema):
    id: UUID
    patient_id: UUID
    name: str
    relationship: Relationship
    relationship_label: str
    status: str = Field(
        description="not_invited, invited, active, cancelled, expired, revoked or ended "
        "(the patient ended it, its end date passed, or the patient came of age)."
    )
    status_label: str
    ends_on: dt.date | None
    email: str | None = Field(
        description="The representative's account email once enrolled, else where the "
        "enrollment email went."
    )
    phone: str | None = Field(description="The phone of the last invitation (E.164), if any.")
    access_code: str | None = Field(
        description="The live access code while the invite is pending: staff hand it over."
    )
    expires_at: dt.datetime | None = Field(description="When the pending invite expires.")
    locked: bool = Field(description="The pending invite is locked after too many wrong codes.")
    actions: list[str] = Field(
        description="What the token's user may do now: resend, cancel, revoke, reinvite, edit, "
        "unlock (an empty list for a user who may not invite patients)."
    )
    note: str = Field(
        description="What the practice's rules of age do, or did, to this access, in words."
    )


class RepresentativeIn(InputSchema):
    """A new representative of the chart, with where their enrollment email goes."""

    name: CleanStr = text_field(Representative, "name", required=True)
    relationship: Relationship
    email: Email = Field(
        ...,
        max_length=EMAIL_MAX_LENGTH,
        description="Where the representative's enrollment email goes. " + EMAIL_ALSO,
    )
    phone: PhoneOrBlank = Field(
        "",
        max_length=PHONE_MAX_LENGTH,
        description="The representative's mobile phone, for a security code by text message; "
        "empty for none. " + PHONE_ALSO,
    )
    ends_on: IsoDate | None = Field(None, description=END_DATE)


class RepresentativeDetailsIn(InputSchema):
    """Who the representative is. Every field is replaced: an omitted `ends_on` clears it."""

    name: CleanStr = text_field(Representative, "name", required=True)
    relationship: Relationship
    ends_on: IsoDate | None = Field(None, description=END_DATE)


class RepresentativeContactIn(InputSchema):
    """Omitted or null (or no body at all): the last invitation's email and phone."""

    email: EmailOrNull = Field(
        None,
        max_length=EMAIL_MAX_LENGTH,
        description="Where the new enrollment email goes (the last invitation's when omitted "
        "or null). " + EMAIL_ALSO,
    )
    phone: PhoneOrBlankOrNull = Field(
        None,
        max_length=PHONE_MAX_LENGTH,
        description="The phone for the security code; empty for none, the last invitation's "
        "when omitted or null. " + PHONE_ALSO,
    )


# --- Helpers -------------------------------------------------------------------------------


def _may_invite(request) -> bool:
    return permissions.can_invite_patients(request.membership)


def _out(request, representative: Representative) -> dict:
    row = portal_selectors.representative_row(representative, may_invite=_may_invite(request))
    invitation = row.invitation
    return {
        "id": representative.public_id,
        "patient_id": representative.patient.public_id,
        "name": representative.name,
        "relationship": representative.relationship,
        "relationship_label": row.relationship_label,
        "status": row.state,
        "status_label": row.state_label,
        "ends_on": representative.ends_on,
        "email": row.email or None,
        "phone": row.phone or None,
        "access_code": invitation.access_code if invitation and not invitation.is_locked else None,
        "expires_at": invitation.expires_at if invitation else None,
        "locked": bool(invitation and invitation.is_locked),
        "actions": list(row.actions),
        "note": row.note,
    }


def _shown(request, representative: Representative, what: str) -> dict:
    """The representative as the answer shows it; the read is audited as the chart's."""
    chart_services.chart_viewed(request.user, patient=representative.patient, what=what)
    return _out(request, representative)


def _scoped(request, representative_id: UUID) -> Representative:
    representative = portal_selectors.representative_at(request.practice, representative_id)
    if representative is None:
        raise Http404
    return representative


def _again(request, representative_id: UUID) -> dict:
    """The representative as they are after an action (read again, audited)."""
    return _shown(request, _scoped(request, representative_id), "api representative")


# --- Operations ----------------------------------------------------------------------------


@router.get(
    "/patients/{patient_id}/representatives", response={200: list[RepresentativeOut], **ERRORS}
)
def list_representatives(request, patient_id: UUID):
    """The chart's representatives in every state, by name, with the live access code of a
    pending invite. Audited as a read of the chart."""
    patient = chart_selectors.chart_of(request.practice, patient_id)
    representatives = portal_selectors.representatives_of(patient)
    chart_services.chart_viewed(request.user, patient=patient, what="api representatives")
    return [_out(request, r) for r in representatives]


@router.post("/patients/{patient_id}/representatives", response={201: RepresentativeOut, **ERRORS})
def invite_representative(request, patient_id: UUID, payload: RepresentativeIn):
    """Invite a representative of the chart: they get their own enrollment email and access
    code (in the answer), and register with the patient's date of birth and that code."""
    patient = chart_selectors.chart_of(request.practice, patient_id)
    representative = portal_services.representative_invite(
        request.user, patient=patient, **payload.dict()
    )
    return Status(201, _again(request, representative.public_id))


@router.get("/representatives/{representative_id}", response={200: RepresentativeOut, **ERRORS})
def get_representative(request, representative_id: UUID):
    """One representative of one of the practice's charts. Audited as a read of the chart."""
    return _shown(request, _scoped(request, representative_id), "api representative")


@router.put("/representatives/{representative_id}", response={200: RepresentativeOut, **ERRORS})
def update_representative(request, representative_id: UUID, payload: RepresentativeDetailsIn):
    """Correct the representative's name or relationship, or set or clear their end date."""
    portal_services.representative_update(
        request.user, representative=_scoped(request, representative_id), **payload.dict()
    )
    return _again(request, representative_id)


@router.post(
    "/representatives/{representative_id}/resend", response={200: RepresentativeOut, **ERRORS}
)
def resend_representative_invite(
    request, representative_id: UUID, payload: RepresentativeContactIn | None = None
):
    """Resend a pending invite: a new access code and link replace the old ones."""
    contact = payload.dict(exclude_unset=True) if payload else {}
    portal_services.representative_resend(
        request.user, representative=_scoped(request, representative_id), **contact
    )
    return _again(request, representative_id)


@router.post(
    "/representatives/{representative_id}/reinvite", response={200: RepresentativeOut, **ERRORS}
)
def reinvite_representative(
    request, representative_id: UUID, payload: RepresentativeContactIn | None = None
):
    """Invite again a representative whose invite was cancelled or expired, or whose access
    was revoked or ended: a new enrollment email and access code."""
    contact = payload.dict(exclude_unset=True) if payload else {}
    portal_services.representative_reinvite(
        request.user, representative=_scoped(request, representative_id), **contact
    )
    return _again(request, representative_id)


@router.post(
    "/representatives/{representative_id}/cancel", response={200: RepresentativeOut, **ERRORS}
)
def cancel_representative_invite(request, representative_id: UUID):
    """Cancel a pending invite: its access code and link stop working."""
    portal_services.representative_cancel(
        request.user, representative=_scoped(request, representative_id)
    )
    return _again(request, representative_id)


@router.post(
    "/representatives/{representative_id}/revoke", response={200: RepresentativeOut, **ERRORS}
)
def revoke_representative(request, representative_id: UUID):
    """End an enrolled representative's access at once. The patient's own access, and other
    representatives', are not changed (and revoking the patient's does not end this one)."""
    portal_services.representative_revoke(
        request.user, representative=_scoped(request, representative_id)
    )
    return _again(request, representative_id)
