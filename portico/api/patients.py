"""Patients and their portal access. Each handler calls the same service as the pages."""

from uuid import UUID

from ninja import Field, Query, Router, Schema, Status
from ninja.conf import settings as ninja_settings

from portico.api.schemas import (
    ErrorOut,
    InviteIn,
    PatientFilter,
    PatientIn,
    PatientOut,
    PortalStatusOut,
)
from portico.charts import selectors as chart_selectors
from portico.charts import services as chart_services
from portico.portal import services as portal_services
from portico.portal.selectors import portal_window

router = Router(tags=["patients"])

ERRORS = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    409: ErrorOut,
    422: ErrorOut,
}


class PageIn(Schema):
    """Limit and offset, bounded: an unbounded integer overflows the database driver."""

    limit: int = Field(ninja_settings.PAGINATION_PER_PAGE, ge=1, le=200)
    offset: int = Field(0, ge=0, le=2**31 - 1)


class PagedPatientOut(Schema):
    items: list[PatientOut]
    count: int


def _scoped(request, patient_id: UUID):
    return chart_selectors.chart_of(request.practice, patient_id)


def _portal_out(request, patient) -> dict:
    window = portal_window(patient, request.membership)
    invitation = window.invitation
    chart_services.chart_viewed(request.user, patient=patient, what="api portal status")
    return {
        "status": window.state,
        "status_label": window.state_label,
        "access_code": invitation.access_code if invitation else None,
        "email": invitation.email if invitation else None,
        "phone": invitation.phone if invitation else None,
        "invited_at": invitation.created_at if invitation else None,
        "expires_at": invitation.expires_at if invitation else None,
        "locked": bool(invitation and invitation.is_locked),
        "actions": list(window.actions),
        "timeline": [
            {
                "action": e.action,
                "label": e.label,
                "at": e.created_at,
                "by": e.actor_label,
                "representative_id": e.representative.public_id if e.representative else None,
            }
            for e in window.timeline
        ],
    }


@router.get("", response={200: PagedPatientOut, **ERRORS})
def list_patients(request, filters: Query[PatientFilter], page: Query[PageIn]):
    """Charts of the token's practice, by name or date of birth (YYYY-MM-DD or MM/DD/YYYY).
    The list is audited as the patient list page is (the charts shown, not the search)."""
    charts = chart_selectors.patient_search(practice=request.practice, query=filters.q)
    shown = list(charts[page.offset : page.offset + page.limit])
    chart_services.charts_listed(
        request.user,
        practice=request.practice,
        charts=shown,
        what=f"api patient list, offset {page.offset}",
        search=filters.q,
    )
    return {"items": shown, "count": charts.count()}


@router.post("", response={201: PatientOut, **ERRORS})
def create_patient(request, payload: PatientIn):
    patient = chart_services.patient_create(
        request.user, practice=request.practice, **payload.dict()
    )
    return Status(201, patient)


@router.get("/{patient_id}", response={200: PatientOut, **ERRORS})
def get_patient(request, patient_id: UUID):
    patient = _scoped(request, patient_id)
    chart_services.chart_viewed(request.user, patient=patient, what="api demographics")
    return patient


@router.get("/{patient_id}/portal", response={200: PortalStatusOut, **ERRORS}, tags=["portal"])
def get_portal_status(request, patient_id: UUID):
    """Portal status, the live access code, allowed actions and the timeline."""
    return _portal_out(request, _scoped(request, patient_id))


@router.post(
    "/{patient_id}/portal/invite",
    response={200: PortalStatusOut, **ERRORS},
    tags=["portal"],
)
def invite(request, patient_id: UUID, payload: InviteIn | None = None):
    patient = _scoped(request, patient_id)
    contact = payload.dict(exclude_unset=True) if payload else {}
    portal_services.invitation_issue(request.user, patient=patient, **contact)
    return _portal_out(request, _scoped(request, patient_id))


@router.post(
    "/{patient_id}/portal/resend",
    response={200: PortalStatusOut, **ERRORS},
    tags=["portal"],
)
def resend(request, patient_id: UUID, payload: InviteIn | None = None):
    patient = _scoped(request, patient_id)
    contact = payload.dict(exclude_unset=True) if payload else {}
    portal_services.invitation_resend(request.user, patient=patient, **contact)
    return _portal_out(request, _scoped(request, patient_id))


@router.post(
    "/{patient_id}/portal/cancel",
    response={200: PortalStatusOut, **ERRORS},
    tags=["portal"],
)
def cancel(request, patient_id: UUID):
    patient = _scoped(request, patient_id)
    portal_services.invitation_cancel(request.user, patient=patient)
    return _portal_out(request, _scoped(request, patient_id))


@router.post(
    "/{patient_id}/portal/revoke",
    response={200: PortalStatusOut, **ERRORS},
    tags=["portal"],
)
def revoke(request, patient_id: UUID):
    patient = _scoped(request, patient_id)
    portal_services.access_revoke(request.user, patient=patient)
    return _portal_out(request, _scoped(request, patient_id))
