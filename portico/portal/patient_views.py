"""The patient side: registration through the emailed link, and the portal home."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext, ngettext
from django.views.decorators.cache import never_cache

from portico.accounts import mfa, session_timeout
from portico.accounts.services import SignInFailed, sign_in_check
from portico.core import ratelimit
from portico.core.forms import apply_service_errors
from portico.portal import registration, selectors, services
from portico.portal.forms import (
    CreateAccountForm,
    LinkAccountForm,
    PhoneVerifyForm,
    SecurityCodeForm,
    VerifyIdentityForm,
)
from portico.portal.language import use_chart_language
from portico.portal.models import AccessState, InvitationOrigin

SESSION_KEY = "portal_registration"
# The invitation for which this browser asked for a texted code (the code step needs it).
SMS_SESSION_KEY = "portal_registration_sms"


def too_many_tries_message(minutes: int) -> str:
    """What a client over the registration pages' limit reads: wait, then try again."""
    return ngettext(
        "Too many tries from your network. Please wait a minute and try again, or call your "
        "practice.",
        "Too many tries from your network. Please wait %(minutes)s minutes and try again, or "
        "call your practice.",
        minutes,
    ) % {"minutes": minutes}


def _over_limit(request, scope: str, form) -> bool:
    """Count this answer against the client's address; over the limit, say so on the form."""
    try:
        ratelimit.limit_hit(scope, ratelimit.client_address(request))
    except ratelimit.RateLimited as exc:
        form.add_error(None, too_many_tries_message(exc.minutes))
        return True
    return False


def _link_invitation(request, token):
    """The invitation behind a registration link; its pages speak the invited chart's
    preferred language unless the person chose one (portal.language)."""
    invitation = registration.invitation_for_link(token)
    use_chart_language(request, invitation.patient)
    return invitation


def _link_error(request, error: registration.RegistrationError, status: int = 410):
    return render(request, "portal/register_error.html", {"error": error}, status=status)


@never_cache
def register(request, token):
    """Step 1: "Access your records" — date of birth and access code."""
    try:
        invitation = _link_invitation(request, token)
    except registration.RegistrationError as exc:
        return _link_error(request, exc)
    form = VerifyIdentityForm(request.POST or None)
    limited = request.method == "POST" and _over_limit(request, "registration", form)
    if request.method == "POST" and not limited and form.is_valid():
        try:
            invitation = registration.registration_verify(
                token=token,
                date_of_birth=form.cleaned_data["date_of_birth"],
                access_code=form.cleaned_data["access_code"],
            )
        except registration.RegistrationError as exc:
            if exc.code != "wrong_code":
                return _link_error(request, exc, status=403)
            form.add_error(None, exc.message)
        else:
            request.session[SESSION_KEY] = {"invitation": str(invitation.public_id)}
            return redirect("portal:register_account", token=token)
    return render(
        request,
        "portal/register_verify.html",
        {"form": form, "practice": invitation.practice, **_phone_route(invitation)},
        status=429 if limited else 200,
    )


def _phone_route(invitation) -> dict:
    """What the pages say about the phone route for this invitation."""
    available = registration.phone_route_available(invitation)
    return {
        "phone_route": available,
        # Auto-invited patients have no printed access code, so the texted code comes first.
        "phone_route_first": available and invitation.origin == InvitationOrigin.AUTO,
        "phone_ending": invitation.phone[-2:] if available else "",
    }


@never_cache
def register_text(request, token):
    """The phone route, step 1: date of birth and the phone on file; a code is texted."""
    try:
        invitation = _link_invitation(request, token)
    except registration.RegistrationError as exc:
        return _link_error(request, exc)
    route = _phone_route(invitation)
    if not route["phone_route"]:
        return redirect("portal:register", token=token)
    form = PhoneVerifyForm(request.POST or None)
    limited = request.method == "POST" and _over_limit(request, "security_code", form)
    if request.method == "POST" and not limited and form.is_valid():
        try:
            registration.security_code_request(
                token=token,
                date_of_birth=form.cleaned_data["date_of_birth"],
                phone=form.cleaned_data["phone"],
            )
        except registration.RegistrationError as exc:
            if exc.code not in ("too_soon", "too_many_codes"):
                return _link_error(request, exc, status=403)
            form.add_error(None, exc.message)
        else:
            request.session[SMS_SESSION_KEY] = str(invitation.public_id)
            return redirect("portal:register_text_code", token=token)
    return render(
        request,
        "portal/register_text.html",
        {"form": form, "practice": invitation.practice, **route},
        status=429 if limited else 200,
    )


@never_cache
def register_text_code(request, token):
    """The phone route, step 2: the texted security code."""
    try:
        invitation = _link_invitation(request, token)
    except registration.RegistrationError as exc:
        return _link_error(request, exc)
    if request.session.get(SMS_SESSION_KEY) != str(invitation.public_id):
        return redirect("portal:register_text", token=token)
    form = SecurityCodeForm(request.POST or None)
    limited = request.method == "POST" and _over_limit(request, "registration", form)
    if request.method == "POST" and not limited and form.is_valid():
        try:
            invitation = registration.registration_verify_security_code(
                token=token, security_code=form.cleaned_data["security_code"]
            )
        except registration.RegistrationError as exc:
            if exc.code != "wrong_code":
                return _link_error(request, exc, status=403)
            form.add_error(None, exc.message)
        else:
            request.session.pop(SMS_SESSION_KEY, None)
            request.session[SESSION_KEY] = {"invitation": str(invitation.public_id)}
            return redirect("portal:register_account", token=token)
    return render(
        request,
        "portal/register_text_code.html",
        {
            "form": form,
            "practice": invitation.practice,
            "minutes": settings.PORTICO_SECURITY_CODE_TTL_MINUTES,
            **_phone_route(invitation),
        },
        status=429 if limited else 200,
    )


@never_cache
def register_account(request, token):
    """Step 2: create an account, or sign in to an existing one, to hold this record."""
    try:
        invitation = _link_invitation(request, token)
    except registration.RegistrationError as exc:
        return _link_error(request, exc)
    verified = request.session.get(SESSION_KEY, {})
    if verified.get("invitation") != str(invitation.public_id):
        # Identity not proved in this browser yet: back to step 1.
        return redirect("portal:register", token=token)
    invitation_id = str(invitation.public_id)

    create_form = CreateAccountForm(initial={"email": invitation.email}, prefix="new")
    link_form = LinkAccountForm(prefix="existing")
    if request.method == "POST":
        choice = request.POST.get("choice")
        try:
            if choice == "create":
                create_form = CreateAccountForm(request.POST, prefix="new")
                if create_form.is_valid():
                    account = registration.registration_create_account(
                        invitation_id=invitation_id,
                        email=create_form.cleaned_data["email"],
                        password=create_form.cleaned_data["password"],
                    )
                    return _finish(request, account)
            elif choice == "link":
                link_form = LinkAccountForm(request.POST, prefix="existing")
                if link_form.is_valid():
                    # The sign-in page's password step, throttling and lock included.
                    try:
                        account = sign_in_check(
                            request,
                            login=link_form.cleaned_data["email"],
                            password=link_form.cleaned_data["password"],
                        )
                    except SignInFailed as exc:
                        link_form.add_error(None, exc.message)
                    else:
                        registration.registration_link_account(account, invitation_id=invitation_id)
                        return _finish(request, account)
            elif choice == "current" and request.user.is_authenticated:
                registration.registration_link_account(request.user, invitation_id=invitation_id)
                return _finish(request, request.user)
        except ValidationError as exc:
            apply_service_errors(create_form, exc)
        except registration.RegistrationError as exc:
            return _link_error(request, exc)
    return render(
        request,
        "portal/register_account.html",
        {
            "create_form": create_form,
            "link_form": link_form,
            "practice": invitation.practice,
        },
    )


def _finish(request, account):
    if request.user != account:
        login(request, account)
        # Registering proved the invitation's secret: this session needs no second code.
        session_timeout.session_started(request)
        mfa.session_mark_verified(request, account)
    request.session.pop(SESSION_KEY, None)
    messages.success(request, gettext("You are registered. Welcome to your patient portal."))
    return redirect("portal:home")


@login_required
@never_cache
def home(request):
    """The patient's records, checked against their access on every request."""
    accesses = selectors.patient_access_list(request.user)
    active = [a for a in accesses if a.effective_state == AccessState.ACTIVE]
    if len(active) == 1 and len(accesses) == 1:
        return redirect("records:record", access_id=active[0].public_id)
    services.records_listed(request.user, accesses=accesses)
    return render(
        request,
        "portal/home.html",
        {
            "accesses": accesses,
            "active": active,
            "no_access_message": services.NO_ACCESS_MESSAGE,
        },
    )
