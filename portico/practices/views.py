from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from portico.core.forms import apply_service_errors
from portico.notifications.sms import sms_enabled
from portico.practices import services
from portico.practices.decorators import administrator_required, staff_required
from portico.practices.forms import (
    NOTICE_NONE,
    NOTICE_WITHIN,
    CancellationPolicyForm,
    RepresentativeAgesForm,
    StaffAddForm,
)
from portico.practices.models import Membership, Role
from portico.practices.selectors import practice_members


@administrator_required
def settings_home(request):
    return redirect("practices:phr_invite")


def _sms_note(practice) -> str | None:
    """What the tab says next to the auto-invite switch about the text-message backend:
    "paused" (on, but no backend: nobody is invited), "needed" (off, and it cannot be turned on
    without one), or nothing."""
    if services.auto_invite_stopped_reason(practice) == services.NO_SMS_BACKEND:
        return "paused"
    return None if sms_enabled() else "needed"


def _ages_form(practice) -> RepresentativeAgesForm:
    return RepresentativeAgesForm(
        initial={
            "narrow_age": practice.representative_narrow_age,
            "end_age": practice.representative_end_age,
        }
    )


def _phr_invite_page(request, status: int = 200, **context):
    """The "PHR invite" tab: the auto-invite switch, who may invite patients, and the ages of
    a parent's access to a child's record."""
    context.setdefault("ages_form", _ages_form(request.practice))
    return render(
        request,
        "practices/phr_invite.html",
        {
            "members": list(practice_members(request.practice)),
            "auto_invite_choices": AUTO_INVITE_CHOICES,
            "sms_note": _sms_note(request.practice),
            **context,
        },
        status=status,
    )


@administrator_required
def phr_invite(request):
    """EHR Settings > Patient communications > PHR invite: who may invite patients."""
    if request.method == "POST":
        known = {str(m.pk): m.pk for m in practice_members(request.practice)}
        ticked = request.POST.getlist("may_invite")
        # Anything that is not one of this practice's members is refused as a whole:
        # dropping it silently would untick everyone else.
        if not set(ticked) <= known.keys():
            return _phr_invite_page(
                request, status=400, error=gettext("The list of users changed; please try again.")
            )
        changed = services.invite_permissions_set(
            request.user, practice=request.practice, allowed_member_ids={known[t] for t in ticked}
        )
        messages.success(request, gettext("Saved.") if changed else gettext("Nothing changed."))
        return redirect("practices:phr_invite")
    return _phr_invite_page(request)


AUTO_INVITE_CHOICES = (("on", True), ("off", False))


@administrator_required
@require_POST
def auto_invite(request):
    """EHR Settings > PHR invite: the auto-invite switch, in its own form."""
    choice = dict(AUTO_INVITE_CHOICES).get(request.POST.get("auto_invite", ""))
    if choice is None:
        return _phr_invite_page(request, status=400, auto_invite_error=gettext("Choose on or off."))
    try:
        changed = services.auto_invite_set(request.user, practice=request.practice, enabled=choice)
    except ValidationError as exc:
        # Turning it on without a text-message backend: the reason, next to the switch, in
        # place of the note that says the same (a paused switch keeps its "paused" note).
        note = _sms_note(request.practice)
        return _phr_invite_page(
            request,
            status=400,
            auto_invite_error=" ".join(exc.messages),
            sms_note=note if note == "paused" else None,
        )
    if not changed:
        messages.success(request, gettext("Nothing changed."))
    elif choice:
        messages.success(request, gettext("Auto-invite is on."))
    else:
        messages.success(
            request, gettext("Auto-invite is off: no more patients are invited automatically.")
        )
    return redirect("practices:phr_invite")


@administrator_required
@require_POST
def representative_ages(request):
    """EHR Settings > PHR invite: the ages at which a parent's or legal guardian's access
    narrows and ends (SPEC §9.3), in their own form; nothing changes unless both are right."""
    form = RepresentativeAgesForm(request.POST)
    if form.is_valid():
        try:
            changed = services.representative_ages_set(
                request.user,
                practice=request.practice,
                narrow_age=form.cleaned_data["narrow_age"],
                end_age=form.cleaned_data["end_age"],
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(
                request,
                gettext("The representatives' ages are saved.")
                if changed
                else gettext("Nothing changed."),
            )
            return redirect("practices:phr_invite")
    return _phr_invite_page(request, status=400, ages_form=form)


ON_OFF = (("on", True), ("off", False))


def _messaging_page(request, status: int = 200, **context):
    """The "Messaging" tab: the two switches and who (besides the providers) may read and
    answer the practice's patient messages."""
    members = list(practice_members(request.practice))
    return render(
        request,
        "practices/messaging.html",
        {
            "providers": [m for m in members if m.receives_messages],
            "helpers": [m for m in members if not m.receives_messages],
            "on_off": ON_OFF,
            **context,
        },
        status=status,
    )


@administrator_required
def messaging(request):
    """EHR Settings > Patient communications > Messaging (SPEC §1.3, §7): messaging on or off,
    automatic filing into the chart, and who may read and answer patient messages. Two forms
    post here; a hidden "form" field says which."""
    if request.method != "POST":
        return _messaging_page(request)
    if request.POST.get("form") == "switches":
        return _messaging_switches(request)
    members = list(practice_members(request.practice))
    known = {str(m.pk): m.pk for m in members if not m.receives_messages}
    ticked = request.POST.getlist("may_answer")
    # As on the PHR invite tab: anything that is not one of the listed members is refused as a
    # whole (dropping it silently would untick everyone else).
    if not set(ticked) <= known.keys():
        return _messaging_page(
            request,
            status=400,
            helpers_error=gettext("The list of users changed; please try again."),
        )
    changed = services.message_helpers_set(
        request.user, practice=request.practice, allowed_member_ids={known[t] for t in ticked}
    )
    messages.success(request, gettext("Saved.") if changed else gettext("Nothing changed."))
    return redirect("practices:messaging")


def _messaging_switches(request):
    choices = dict(ON_OFF)
    values, errors = {}, {}
    for name in ("enabled", "auto_file"):
        values[name] = choices.get(request.POST.get(name, ""))
        if values[name] is None:
            errors[f"{name}_error"] = gettext("Choose on or off.")
    if errors:
        return _messaging_page(request, status=400, **errors)
    try:
        changed = services.messaging_settings_set(request.user, practice=request.practice, **values)
    except ValidationError as exc:
        return _messaging_page(
            request,
            status=400,
            **{f"{name}_error": " ".join(msgs) for name, msgs in exc.message_dict.items()},
        )
    if not changed:
        messages.success(request, gettext("Nothing changed."))
    elif "enabled" in changed and not values["enabled"]:
        messages.success(
            request,
            gettext(
                "Patient messaging is off: patients can no longer write to the practice. What "
                "they sent stays in the chart."
            ),
        )
    else:
        messages.success(request, gettext("Saved."))
    return redirect("practices:messaging")


def _policy_form(practice) -> CancellationPolicyForm:
    return CancellationPolicyForm(
        initial={
            "approval": practice.cancellation_approval,
            "approval_days": practice.cancellation_approval_days or "",
            "notice": NOTICE_NONE if practice.cancellation_notice_days is None else NOTICE_WITHIN,
            "notice_days": practice.cancellation_notice_days or "",
        }
    )


def _reminders_page(request, status: int = 200, **context):
    """The "Appointment reminders" tab: the practice's switch and a tick per provider, and the
    cancellation policy."""
    context.setdefault("policy_form", _policy_form(request.practice))
    return render(
        request,
        "practices/reminders.html",
        {
            "providers": [m for m in practice_members(request.practice) if m.role == Role.PROVIDER],
            "on_off": ON_OFF,
            **context,
        },
        status=status,
    )


def _cancellation_policy(request):
    """The cancellation policy's own form on the reminders tab (SPEC §8.6): nothing changes
    unless every part is right; the errors show next to their choice."""
    form = CancellationPolicyForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            changed = services.cancellation_policy_set(
                request.user,
                practice=request.practice,
                approval=data["approval"],
                approval_days=data["approval_days"],
                # Chosen with an empty box: "" (the service asks for the number); None is
                # "Practice doesn't have policy".
                notice_days=data["notice_days"] if data["notice"] == NOTICE_WITHIN else None,
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(
                request,
                gettext("The cancellation policy is saved.")
                if changed
                else gettext("Nothing changed."),
            )
            return redirect("practices:reminders")
    return _reminders_page(request, status=400, policy_form=form)


@administrator_required
def reminders(request):
    """EHR Settings > Patient communications > Appointment reminders (SPEC §1.3, §8.7):
    reminder emails on or off, and which providers' appointments get them; and, in its own
    form (a hidden "form" field says which), the cancellation policy (SPEC §8.6)."""
    if request.method != "POST":
        return _reminders_page(request)
    if request.POST.get("form") == "cancellation":
        return _cancellation_policy(request)
    enabled = dict(ON_OFF).get(request.POST.get("enabled", ""))
    known = {str(m.pk): m.pk for m in practice_members(request.practice) if m.role == Role.PROVIDER}
    ticked = request.POST.getlist("sends_reminders")
    errors = {}
    if enabled is None:
        errors["enabled_error"] = gettext("Choose on or off.")
    # As on the other tabs: anything that is not one of the listed providers is refused as a
    # whole (dropping it silently would untick everyone else).
    if not set(ticked) <= known.keys():
        errors["senders_error"] = gettext("The list of providers changed; please try again.")
    if errors:
        return _reminders_page(request, status=400, **errors)
    try:
        changed = services.reminder_settings_set(
            request.user,
            practice=request.practice,
            enabled=enabled,
            sender_ids={known[t] for t in ticked},
        )
    except ValidationError as exc:
        return _reminders_page(
            request,
            status=400,
            **{
                ("enabled_error" if name == "enabled" else "senders_error"): " ".join(msgs)
                for name, msgs in exc.message_dict.items()
            },
        )
    if not changed:
        messages.success(request, gettext("Nothing changed."))
    elif "enabled" in changed and not enabled:
        messages.success(
            request,
            gettext(
                "Appointment reminders are off: no more reminders are sent. Emails about "
                "booked, moved or cancelled appointments still go."
            ),
        )
    else:
        messages.success(request, gettext("Saved."))
    return redirect("practices:reminders")


@staff_required
@require_POST
def switch_practice(request):
    try:
        membership = services.practice_switch(
            request.user, session=request.session, practice_public_id=request.POST.get("practice")
        )
    except ValidationError:
        membership = None
    if membership is None:
        messages.error(request, gettext("You are not a member of that practice."))
    return redirect("charts:patient_list")


@administrator_required
def users(request):
    """EHR Settings > Users: who works at the practice; add a person or take them off."""
    form = StaffAddForm(request.POST or None)
    new_password, new_user_email = None, ""
    if request.method == "POST" and form.is_valid():
        try:
            membership, new_password = services.staff_add(
                request.user, practice=request.practice, **form.cleaned_data
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(
                request, gettext("%(name)s was added.") % {"name": membership.user.display_name}
            )
            if new_password is None:
                return redirect("practices:users")
            new_user_email = membership.user.email
            form = StaffAddForm()
    members = practice_members(request.practice)
    return render(
        request,
        "practices/users.html",
        {
            "form": form,
            "members": members,
            "new_password": new_password,
            "new_user_email": new_user_email,
        },
    )


@administrator_required
@require_POST
def user_remove(request, user_id):
    membership = get_object_or_404(
        Membership.objects.select_related("user", "practice"),
        practice=request.practice,
        user__public_id=user_id,
        is_active=True,
    )
    try:
        services.membership_deactivate(request.user, membership=membership)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            gettext("%(name)s no longer works here.") % {"name": membership.user.display_name},
        )
    return redirect("practices:users")
