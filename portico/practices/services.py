"""Practice administration: who may do what (SPEC §1)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext, gettext_lazy

from portico.audit.services import audit_record
from portico.core.validation import clean_email
from portico.notifications import sms
from portico.practices import permissions
from portico.practices import selectors as practice_selectors
from portico.practices.models import Membership, Role


def _require_settings_admin(actor, practice) -> None:
    permissions.require(
        permissions.can_manage_settings(practice_selectors.membership_for(actor, practice)),
        gettext("Only administrators can change EHR Settings."),
    )


def _member_right_set(
    actor,
    *,
    practice,
    allowed_member_ids: set[int],
    field: str,
    action: str,
    detail: str,
    only=None,
) -> list[Membership]:
    """Give a per-user right (a boolean `field` of Membership) to exactly the ticked members
    among the practice's active members (those `only` accepts, when given); returns the
    memberships whose right changed, each change audited as `action`."""
    _require_settings_admin(actor, practice)
    changed = []
    members = (
        Membership.objects.select_for_update(of=("self",))
        .select_related("user")
        .filter(practice=practice, is_active=True)
    )
    for membership in members:
        if only is not None and not only(membership):
            continue
        allowed = membership.pk in allowed_member_ids
        if getattr(membership, field) != allowed:
            setattr(membership, field, allowed)
            membership.save(update_fields=[field])
            changed.append(membership)
            audit_record(
                actor,
                action=action,
                practice=practice,
                details={"user": str(membership.user.public_id), detail: allowed},
            )
    return changed


@transaction.atomic
def invite_permissions_set(actor, *, practice, allowed_member_ids: set[int]) -> list[Membership]:
    """EHR Settings > PHR invite: exactly the ticked members may invite patients.

    Returns the memberships whose right changed; each change is audited.
    """
    return _member_right_set(
        actor,
        practice=practice,
        allowed_member_ids=allowed_member_ids,
        field="may_invite_patients",
        action="settings.phr_invite_permission",
        detail="may_invite",
    )


# Auto-invited patients have no printed access code: they verify with their date of birth and a
# security code sent by text message (SPEC §5.1), so auto-invite needs an SMS backend.
AUTO_INVITE_OFF = "auto_invite_off"
NO_SMS_BACKEND = "no_sms_backend"
AUTO_INVITE_NEEDS_SMS_MESSAGE = gettext_lazy(
    "Auto-invite needs a text-message (SMS) backend, and none is configured: auto-invited "
    "patients verify with a security code sent by text message, so they could not register. "
    "Ask the operator of Portico to configure one (the SMS_URL setting) first."
)


def auto_invite_stopped_reason(practice) -> str | None:
    """Why the practice invites nobody automatically now, or None when it may (per chart, the
    rest of the rule is `portal.auto_invite.ineligible_reason`, which starts here): auto-invite
    is off, or it is on but paused because no text-message backend is configured (SMS_URL
    empty, e.g. removed after auto-invite was turned on)."""
    if not practice.auto_invite_enabled:
        return AUTO_INVITE_OFF
    if not sms.sms_enabled():
        return NO_SMS_BACKEND
    return None


@transaction.atomic
def auto_invite_set(actor, *, practice, enabled: bool) -> bool:
    """EHR Settings > PHR invite: turn auto-invite (SPEC §5.1) on or off; True if it changed.

    On needs a text-message backend (see AUTO_INVITE_NEEDS_SMS_MESSAGE): without one, asking
    for on raises ValidationError and changes nothing (a practice whose backend went away stays
    on, paused). Turning it off always works.

    The practice row is locked, and the auto-invite service reads the setting under the same
    lock, so once turning it off has committed no automatic invitation is issued any more,
    including ones already scheduled.
    """
    from portico.practices.models import Practice

    _require_settings_admin(actor, practice)
    if enabled and not sms.sms_enabled():
        raise ValidationError({"enabled": [AUTO_INVITE_NEEDS_SMS_MESSAGE]})
    locked = Practice.objects.select_for_update().get(pk=practice.pk)
    enabled = bool(enabled)
    if locked.auto_invite_enabled == enabled:
        practice.auto_invite_enabled = enabled
        return False
    locked.auto_invite_enabled = practice.auto_invite_enabled = enabled
    locked.save(update_fields=["auto_invite_enabled"])
    audit_record(
        actor,
        action="settings.auto_invite",
        practice=practice,
        details={"enabled": enabled},
    )
    return True


@transaction.atomic
def messaging_settings_set(
    actor, *, practice, enabled: bool | None = None, auto_file: bool | None = None
) -> list[str]:
    """EHR Settings > Patient communications > Messaging (SPEC §1.3, §7.1): turn patient
    messaging on or off, and automatic filing of patient messages into the chart. Only the
    values given change; returns the names of the settings that changed (each audited).

    Turning messaging off stops patients writing at once (the messaging services read the
    setting afresh for every message); what they sent stays in the chart.
    """
    from portico.practices.models import Practice

    _require_settings_admin(actor, practice)
    for name, value in (("enabled", enabled), ("auto_file", auto_file)):
        if value is not None and not isinstance(value, bool):
            raise ValidationError({name: [gettext("Choose on or off.")]})
    locked = Practice.objects.select_for_update().get(pk=practice.pk)
    changed = []
    for name, field, value in (
        ("enabled", "messaging_enabled", enabled),
        ("auto_file", "messaging_auto_file", auto_file),
    ):
        if value is None or getattr(locked, field) == value:
            continue
        setattr(locked, field, value)
        changed.append(name)
        audit_record(
            actor,
            action=f"settings.messaging_{name}",
            practice=practice,
            details={"enabled": value},
        )
    if changed:
        locked.save(update_fields=["messaging_enabled", "messaging_auto_file"])
    practice.messaging_enabled = locked.messaging_enabled
    practice.messaging_auto_file = locked.messaging_auto_file
    return changed


@transaction.atomic
def message_helpers_set(actor, *, practice, allowed_member_ids: set[int]) -> list[Membership]:
    """EHR Settings > Messaging: exactly the ticked members besides the providers read and
    answer the practice's patient messages. Providers always may: their own flag is left as it
    is, whatever the list says. Returns the memberships whose right changed; each change is
    audited."""
    return _member_right_set(
        actor,
        practice=practice,
        allowed_member_ids=allowed_member_ids,
        field="may_answer_messages",
        action="settings.messaging_helper",
        detail="may_answer",
        only=lambda membership: not membership.receives_messages,
    )


@transaction.atomic
def reminder_settings_set(actor, *, practice, enabled: bool, sender_ids) -> list[str]:
    """EHR Settings > Patient communications > Appointment reminders (SPEC §1.3, §8.7): turn
    reminder emails on or off for the practice, and tick the providers whose appointments get
    them (`sender_ids`: memberships of the practice's providers; the others are unticked).
    Returns what changed ("enabled", "senders"); each change is audited. Bad input (not on or
    off, anything that is not one of the practice's providers) changes nothing.

    Turning reminders off stops them at once, also those already queued: each reminder email
    reads the setting when it is sent. Status emails (booked, moved, cancelled) still go."""
    from portico.practices.models import Practice

    _require_settings_admin(actor, practice)
    errors: dict[str, list[str]] = {}
    if not isinstance(enabled, bool):
        errors["enabled"] = [gettext("Choose on or off.")]
    providers = set(
        Membership.objects.filter(
            practice=practice, is_active=True, role=Role.PROVIDER
        ).values_list("pk", flat=True)
    )
    ids = set(sender_ids or ())
    if not all(isinstance(i, int) and not isinstance(i, bool) for i in ids) or not ids <= providers:
        errors["sender_ids"] = [gettext("The list of providers changed; please try again.")]
    if errors:
        raise ValidationError(errors)
    changed = []
    locked = Practice.objects.select_for_update().get(pk=practice.pk)
    if locked.reminders_enabled != enabled:
        locked.reminders_enabled = enabled
        locked.save(update_fields=["reminders_enabled"])
        changed.append("enabled")
        audit_record(
            actor,
            action="settings.reminders_enabled",
            practice=practice,
            details={"enabled": enabled},
        )
    practice.reminders_enabled = enabled
    if _member_right_set(
        actor,
        practice=practice,
        allowed_member_ids=ids,
        field="sends_reminders",
        action="settings.reminder_sender",
        detail="sends_reminders",
        only=lambda membership: membership.role == Role.PROVIDER,
    ):
        changed.append("senders")
    return changed


# --- Representatives (SPEC §9.3) ---------------------------------------------------------------

# The patient's ages a practice may choose for a parent's or guardian's access to narrow and end.
REPRESENTATIVE_AGE_MIN = 10
REPRESENTATIVE_AGE_MAX = 21


def _whole_number(
    value, field: str, errors: dict[str, list[str]], *, low: int, high: int, messages
) -> int | None:
    """A whole number from `low` to `high`, from an int or the digits typed ("" or None:
    missing). `messages` are the field's (missing, not whole, out of range) messages, the last
    with %(min)s and %(max)s."""
    missing, not_whole, out_of_range = messages
    if isinstance(value, str):
        value = value.strip()
        if not value:
            value = None
        elif re.fullmatch(r"[+-]?[0-9]{1,9}", value):
            value = int(value)
    if value is None:
        errors[field] = [str(missing)]
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        errors[field] = [str(not_whole)]
        return None
    if not low <= value <= high:
        errors[field] = [str(out_of_range) % {"min": low, "max": high}]
        return None
    return value


def _age(value, field: str, errors: dict[str, list[str]]) -> int | None:
    """An age in whole years from REPRESENTATIVE_AGE_MIN to _MAX."""
    return _whole_number(
        value,
        field,
        errors,
        low=REPRESENTATIVE_AGE_MIN,
        high=REPRESENTATIVE_AGE_MAX,
        messages=(
            gettext_lazy("Enter an age in years."),
            gettext_lazy("Enter the age as a whole number of years."),
            gettext_lazy("Enter an age from %(min)s to %(max)s."),
        ),
    )


@transaction.atomic
def representative_ages_set(actor, *, practice, narrow_age, end_age) -> list[str]:
    """EHR Settings > PHR invite > representatives (SPEC §9.3): the patient's age from which a
    parent's or legal guardian's access narrows (no messages), and the age at which it ends
    unless the adult patient renews it. Administrators only; 10 ≤ narrow < end ≤ 21, whole
    years. Returns the names of the settings that changed ("narrow_age", "end_age"), audited
    together; bad input changes nothing.

    The ages apply at once to every representative of the practice, those already enrolled too:
    each request works out a representative's access from the patient's age and these settings
    (portal.representation)."""
    from portico.practices.models import Practice

    _require_settings_admin(actor, practice)
    errors: dict[str, list[str]] = {}
    narrow_age = _age(narrow_age, "narrow_age", errors)
    end_age = _age(end_age, "end_age", errors)
    if narrow_age is not None and end_age is not None and narrow_age >= end_age:
        errors["end_age"] = [
            gettext("The age at which access ends must be higher than the age at which it narrows.")
        ]
    if errors:
        raise ValidationError(errors)
    locked = Practice.objects.select_for_update().get(pk=practice.pk)
    values = {
        "narrow_age": ("representative_narrow_age", narrow_age),
        "end_age": ("representative_end_age", end_age),
    }
    changed = [name for name, (field, value) in values.items() if getattr(locked, field) != value]
    for field, value in values.values():
        setattr(locked, field, value)
        setattr(practice, field, value)
    if changed:
        locked.save(update_fields=[field for field, _value in values.values()])
        audit_record(
            actor,
            action="settings.representative_ages",
            practice=practice,
            details={"narrow_age": narrow_age, "end_age": end_age, "changed": changed},
        )
    return changed


# --- Online booking (SPEC §8.4, §8.6) ---------------------------------------------------------

# How far before a visit a cancellation policy can reach, in calendar days.
POLICY_DAYS_MAX = 90
# How many websites may frame the practice's booking pages.
EMBED_ORIGINS_MAX = 20
# Hosts a practice may list with plain http://, to try the embedded page on its own computer.
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]"})
_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def _policy_days(value, field: str, errors: dict[str, list[str]]) -> int | None:
    """A number of calendar days from 1 to POLICY_DAYS_MAX."""
    return _whole_number(
        value,
        field,
        errors,
        low=1,
        high=POLICY_DAYS_MAX,
        messages=(
            gettext_lazy("Enter the number of calendar days."),
            gettext_lazy("Enter the number of calendar days as a whole number."),
            gettext_lazy("Enter a number of calendar days from 1 to %(max)s."),
        ),
    )


@transaction.atomic
def cancellation_policy_set(
    actor, *, practice, approval: str, approval_days=None, notice_days=None
) -> list[str]:
    """EHR Settings > Appointment reminders > cancellation policy (SPEC §8.6): whether a
    patient's cancellation of a confirmed appointment needs the practice's approval (never,
    always, or within `approval_days` calendar days of the visit), and from how many calendar
    days before the visit patients are told they may be charged (`notice_days`; None: the
    practice has no such policy). Days are 1 to 90; `approval_days` is required with "within"
    and ignored otherwise. Returns the names of the settings that changed ("approval",
    "approval_days", "notice_days"), audited together; bad input changes nothing."""
    from portico.practices.models import CancellationApproval, Practice

    _require_settings_admin(actor, practice)
    errors: dict[str, list[str]] = {}
    if approval not in CancellationApproval.values:
        errors["approval"] = [gettext("Choose one of the approval policies.")]
    if approval == CancellationApproval.WITHIN:
        approval_days = _policy_days(approval_days, "approval_days", errors)
    else:
        approval_days = None
    if notice_days is not None:
        notice_days = _policy_days(notice_days, "notice_days", errors)
    if errors:
        raise ValidationError(errors)
    locked = Practice.objects.select_for_update().get(pk=practice.pk)
    values = {
        "approval": ("cancellation_approval", approval),
        "approval_days": ("cancellation_approval_days", approval_days),
        "notice_days": ("cancellation_notice_days", notice_days),
    }
    changed = [name for name, (field, value) in values.items() if getattr(locked, field) != value]
    for _name, (field, value) in values.items():
        setattr(locked, field, value)
        setattr(practice, field, value)
    if changed:
        locked.save(update_fields=[field for field, _value in values.values()])
        audit_record(
            actor,
            action="settings.cancellation_policy",
            practice=practice,
            details={
                "approval": approval,
                "approval_days": approval_days,
                "notice_days": notice_days,
                "changed": changed,
            },
        )
    return changed


def _clean_origin(line: str) -> str:
    """The origin as browsers send it (scheme://host[:port]); ValueError says what is wrong."""
    if any(c.isspace() for c in line) or not line.isascii() or not line.isprintable():
        raise ValueError(
            gettext("Use only plain letters, digits, dots, hyphens and colons, with no spaces.")
        )
    parts = urlsplit(line)
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http") or not parts.netloc:
        raise ValueError(gettext("Start with https:// and give the website's address."))
    if parts.path not in ("", "/") or parts.query or parts.fragment or line.endswith(("?", "#")):
        raise ValueError(
            gettext("Give the origin only, without a path (such as https://www.example.org).")
        )
    if "@" in parts.netloc:
        raise ValueError(gettext("Give the origin only, without a user name or password."))
    try:
        host, port = (parts.hostname or ""), parts.port
    except ValueError:
        raise ValueError(gettext("The port must be a number from 1 to 65535.")) from None
    if parts.netloc.rstrip("0123456789").endswith(":") and not port:
        raise ValueError(gettext("The port must be a number from 1 to 65535."))
    host_text = f"[{host}]" if ":" in host else host
    if host_text not in LOCAL_HOSTS:
        labels = host.split(".")
        if len(labels) < 2 or not all(_HOST_LABEL.match(label) for label in labels):
            raise ValueError(gettext("Give the website's full host name, such as www.example.org."))
        if labels[-1].isdigit():
            raise ValueError(gettext("Give the website's host name, not an IP address."))
    if scheme == "http" and host_text not in LOCAL_HOSTS:
        raise ValueError(
            gettext("Use https://. Only http://localhost is allowed without it, for testing.")
        )
    return f"{scheme}://{host_text}" + (f":{port}" if port else "")


@transaction.atomic
def embed_origins_set(actor, *, practice, origins: str) -> bool:
    """EHR Settings > Online booking on your website (SPEC §8.4): the origins (one per line,
    https://www.example.org, no path; http://localhost for testing) whose pages may show the
    practice's booking pages in an <iframe>. Every other page of Portico still denies framing.
    Blank lines and repeats are dropped, letters lowered and a final "/" taken off. Returns
    whether the list changed (audited); one bad line changes nothing."""
    from portico.practices.models import Practice

    _require_settings_admin(actor, practice)
    if not isinstance(origins, str):
        raise ValidationError({"origins": [gettext("Enter one origin per line.")]})
    found: list[str] = []
    problems: list[str] = []
    for raw in origins.splitlines():
        line = raw.strip()
        if not line:
            continue
        if len(line) > 200:
            problems.append(gettext("An origin is at most 200 characters."))
            continue
        try:
            origin = _clean_origin(line)
        except ValueError as problem:
            problems.append(
                gettext("“%(origin)s”: %(problem)s") % {"origin": line, "problem": problem}
            )
            continue
        if origin not in found:
            found.append(origin)
    if not problems and len(found) > EMBED_ORIGINS_MAX:
        problems.append(gettext("List at most %(max)s websites.") % {"max": EMBED_ORIGINS_MAX})
    if problems:
        raise ValidationError({"origins": problems})
    text = "\n".join(found)
    locked = Practice.objects.select_for_update().get(pk=practice.pk)
    practice.booking_embed_origins = text
    if locked.booking_embed_origins == text:
        return False
    locked.booking_embed_origins = text
    locked.save(update_fields=["booking_embed_origins"])
    audit_record(
        actor,
        action="settings.booking_embed_origins",
        practice=practice,
        details={"origins": found},
    )
    return True


def practice_switch(actor, *, session, practice_public_id) -> Membership | None:
    """Make another of the actor's practices the current one."""
    from portico.practices.middleware import SESSION_KEY

    membership = (
        practice_selectors.active_memberships(actor)
        .filter(practice__public_id=practice_public_id)
        .first()
    )
    if membership is not None:
        session[SESSION_KEY] = membership.practice_id
    return membership


def _validate_new_practice(name: str, slug: str, time_zone: str) -> dict[str, list[str]]:
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_slug

    from portico.practices.models import Practice, validate_time_zone

    errors: dict[str, list[str]] = {}
    if not name.strip():
        errors["name"] = [gettext("Give the practice a name.")]
    try:
        validate_slug(slug)
    except ValidationError:
        errors["slug"] = [gettext("Use letters, numbers, hyphens or underscores only.")]
    if "slug" not in errors and Practice.objects.filter(slug=slug).exists():
        errors["slug"] = [gettext("Another practice already uses this slug.")]
    try:
        validate_time_zone(time_zone)
    except ValidationError as exc:
        errors["time_zone"] = exc.messages
    return errors


@transaction.atomic
def practice_create(
    *,
    name: str,
    slug: str,
    time_zone: str = "America/New_York",
    phone: str = "",
    operator: str = "operator",
):
    """An operator adds a practice to the deployment (command line; no staff user acts here)."""
    from django.core.exceptions import ValidationError

    from portico.practices.models import Practice

    errors = _validate_new_practice(name, slug, time_zone)
    if errors:
        raise ValidationError(errors)
    practice = Practice.objects.create(
        name=name.strip(), slug=slug, time_zone=time_zone, phone=phone.strip()
    )
    audit_record(None, action="practice.create", practice=practice, actor_label=operator)
    return practice


@transaction.atomic
def staff_add(
    actor,
    *,
    practice,
    email: str,
    full_name: str,
    role: str,
    credential: str = "",
    operator: str = "operator",
) -> tuple[Membership, str | None]:
    """Give a person a role at a practice, creating their account if needed.

    `actor` is an administrator of the practice, or None when the operator runs it from the
    command line. Returns the membership and, for a new account, a one-time password to hand
    over (printed once, stored only as a hash).
    """
    import secrets

    from django.contrib.auth import get_user_model
    from django.core.exceptions import ValidationError

    from portico.practices.models import ProviderCredential, Role

    if actor is not None:
        permissions.require(
            permissions.can_manage_settings(practice_selectors.membership_for(actor, practice)),
            gettext("Only administrators can add users."),
        )
    errors: dict[str, list[str]] = {}
    email = clean_email(email, errors)
    if role not in Role.values:
        errors["role"] = [gettext("Choose one of: %(roles)s.") % {"roles": ", ".join(Role.values)}]
    if credential not in ProviderCredential.values:
        errors["credential"] = [gettext("Choose MD, DO, NP or PA, or leave it empty.")]
    if len(full_name or "") > 200:
        errors["full_name"] = [gettext("Use at most %(limit)s characters.") % {"limit": 200}]
    if errors:
        raise ValidationError(errors)
    User = get_user_model()  # noqa: N806
    user = User.objects.filter(email__iexact=email).first()
    password = None
    if user is None:
        password = secrets.token_urlsafe(12)
        user = User.objects.create_user(email=email, password=password, full_name=full_name.strip())
    membership = Membership.objects.filter(user=user, practice=practice).first()
    if membership is not None and membership.is_active:
        raise ValidationError({"email": [gettext("This person already works at the practice.")]})
    if membership is not None:
        # Someone who left and comes back: same membership, new role, default rights.
        membership.role, membership.credential = role, credential
        membership.is_active, membership.may_invite_patients = True, True
        membership.save(update_fields=["role", "credential", "is_active", "may_invite_patients"])
    else:
        membership = Membership.objects.create(
            user=user, practice=practice, role=role, credential=credential
        )
    audit_record(
        actor,
        action="practice.staff_add",
        practice=practice,
        actor_label="" if actor else operator,
        details={"user": str(user.public_id), "role": role},
    )
    return membership, password


@transaction.atomic
def membership_deactivate(actor, *, membership: Membership) -> Membership:
    """Take a person off the practice: at once they reach none of its charts, pages or API.

    An administrator cannot remove themselves, so a practice always keeps one.
    """
    from django.core.exceptions import ValidationError

    practice = membership.practice
    permissions.require(
        permissions.can_manage_settings(practice_selectors.membership_for(actor, practice)),
        gettext("Only administrators can remove users."),
    )
    if membership.user_id == actor.pk:
        raise ValidationError(gettext("You cannot remove yourself; ask another administrator."))
    if membership.is_active:
        membership.is_active = False
        membership.save(update_fields=["is_active"])
        audit_record(
            actor,
            action="practice.staff_remove",
            practice=practice,
            details={"user": str(membership.user.public_id)},
        )
    return membership
