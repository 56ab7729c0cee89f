"""EHR Settings through the API: the auto-invite switch (SPEC §1.3, §5.1). Administrators only;
the same service as the "PHR invite" settings page."""

from ninja import Field, Router, Schema
from pydantic import ConfigDict

from portico.api.schemas import ErrorOut
from portico.practices import permissions
from portico.practices import services as practice_services

router = Router(tags=["settings"])

ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 422: ErrorOut}


class AutoInviteOut(Schema):
    enabled: bool
    paused: bool = Field(
        description="On, but inviting nobody: no text-message backend is configured (SMS_URL)."
    )


class AutoInviteIn(Schema):
    enabled: bool

    # true or false only: "yes", 1 or "off" are refused rather than guessed at.
    model_config = ConfigDict(extra="forbid", strict=True)


def _auto_invite_out(practice) -> dict:
    reason = practice_services.auto_invite_stopped_reason(practice)
    return {
        "enabled": practice.auto_invite_enabled,
        "paused": reason == practice_services.NO_SMS_BACKEND,
    }


def _require_administrator(request) -> None:
    permissions.require(
        permissions.can_manage_settings(request.membership),
        "Only administrators can change EHR Settings.",
    )


@router.get("/auto-invite", response={200: AutoInviteOut, **ERRORS})
def get_auto_invite(request):
    """Whether the practice invites eligible patients automatically (administrators only)."""
    _require_administrator(request)
    return _auto_invite_out(request.practice)


@router.put("/auto-invite", response={200: AutoInviteOut, **ERRORS})
def put_auto_invite(request, payload: AutoInviteIn):
    """Turn auto-invite on or off; turning it off stops every automatic invitation at once."""
    practice_services.auto_invite_set(
        request.user, practice=request.practice, enabled=payload.enabled
    )
    return _auto_invite_out(request.practice)
