"""EHR Settings through the API: the auto-invite switch (SPEC §1.3, §5.1) and patient
messaging (SPEC §1.3, §7.1). Administrators only; the same services as the settings pages."""

from uuid import UUID

from django.core.exceptions import ValidationError
from django.db import transaction
from ninja import Field, Router, Schema
from pydantic import ConfigDict, StrictBool

from portico.api.schemas import ErrorOut
from portico.practices import permissions
from portico.practices import services as practice_services
from portico.practices.models import Membership

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


# --- Messaging (SPEC §1.3, §7.1): the same services as the "Messaging" settings tab ------


class MessagingSettingsOut(Schema):
    enabled: bool = Field(description="Patients may write to the practice's providers.")
    auto_file: bool = Field(description="Patient messages are filed into the chart at once.")
    helpers: list[UUID] = Field(
        description="Users (public ids) who read and answer the practice's patient messages "
        "besides the providers, who always may."
    )


class MessagingSettingsIn(Schema):
    """Only the fields given change; `helpers` is the whole list (an empty list: nobody
    besides the providers)."""

    enabled: StrictBool = Field(None, description="true or false (omitted: unchanged).")
    auto_file: StrictBool = Field(None, description="true or false (omitted: unchanged).")
    helpers: list[UUID] = Field(
        None,
        description="Public ids of users working at the practice (omitted: unchanged).",
        max_length=1000,
    )

    model_config = ConfigDict(extra="forbid")


def _messaging_out(practice) -> dict:
    members = Membership.objects.filter(practice=practice, is_active=True).select_related("user")
    return {
        "enabled": practice.messaging_enabled,
        "auto_file": practice.messaging_auto_file,
        "helpers": sorted(
            (m.user.public_id for m in members if _helper(m)),
            key=str,
        ),
    }


def _helper(membership: Membership) -> bool:
    return membership.may_answer_messages and not membership.receives_messages


def _helper_memberships(practice, helpers: list[UUID]) -> set[int]:
    """The memberships of the users named, all working at the practice, or a 422 naming the
    field."""
    wanted = set(helpers)
    found = dict(
        Membership.objects.filter(
            practice=practice, is_active=True, user__public_id__in=wanted
        ).values_list("user__public_id", "pk")
    )
    if len(found) != len(wanted):
        raise ValidationError(
            {"helpers": ["Choose people who work at the practice; some of these ids do not."]}
        )
    return set(found.values())


@router.get("/messaging", response={200: MessagingSettingsOut, **ERRORS})
def get_messaging_settings(request):
    """Patient messaging: on or off, automatic filing, who answers besides the providers
    (administrators only)."""
    _require_administrator(request)
    return _messaging_out(request.practice)


@router.put("/messaging", response={200: MessagingSettingsOut, **ERRORS})
def put_messaging_settings(request, payload: MessagingSettingsIn):
    """Change patient messaging settings; each change is audited. All or nothing: a bad
    value changes none of them."""
    _require_administrator(request)
    practice = request.practice
    helpers = None if payload.helpers is None else _helper_memberships(practice, payload.helpers)
    with transaction.atomic():
        practice_services.messaging_settings_set(
            request.user, practice=practice, enabled=payload.enabled, auto_file=payload.auto_file
        )
        if helpers is not None:
            practice_services.message_helpers_set(
                request.user, practice=practice, allowed_member_ids=helpers
            )
    return _messaging_out(practice)
