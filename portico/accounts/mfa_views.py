"""The second-factor step, authenticator enrollment and the session keep-alive."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from portico.accounts import mfa, session_timeout
from portico.accounts.mfa_forms import EmailCodeForm, EnrollForm, SecondFactorForm
from portico.accounts.models import RememberedDevice
from portico.core import crypto, ratelimit
from portico.core.forms import apply_service_errors

# The secret of the app being set up, encrypted like a stored one (crypto), until confirmed.
SESSION_ENROLL_SECRET = "mfa_enroll_secret"  # noqa: S105 (a session key name)
# Which account confirmed the emailed code that comes before its first app (enroll).
SESSION_ENROLL_EMAIL = "mfa_enroll_email"
SESSION_FAILURES = "mfa_failures"
# Wrong codes in one half-signed-in session before it ends and the password is asked again.
MAX_FAILURES_PER_SESSION = 10
# Wrong codes from one network address, across accounts: (failures, seconds).
CODE_FAILURES_PER_ADDRESS = (30, 15 * 60)


def second_factor_begin(request, user, next_url: str):
    """Sign-in calls this right after the password was right and `login()` ran."""
    session_timeout.session_started(request)
    request.session[mfa.SESSION_NEXT] = next_url
    if mfa.method_for(user) != mfa.METHOD_ENROLL and mfa.device_is_remembered(
        user, request.COOKIES.get(mfa.DEVICE_COOKIE)
    ):
        mfa.session_mark_verified(request, user)
        return redirect(_pop_next(request))
    return redirect("accounts:mfa_verify")


def _pop_next(request) -> str:
    target = request.session.pop(mfa.SESSION_NEXT, "") or ""
    if target and url_has_allowed_host_and_scheme(
        target, {request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return "home"


def _passed(request, user, *, remember: bool):
    mfa.session_mark_verified(request, user)
    request.session.cycle_key()  # a new key now that the session is fully signed in
    response = redirect(_pop_next(request))
    if remember:
        token = mfa.device_remember(user, label=request.headers.get("User-Agent", "")[:120])
        response.set_cookie(
            mfa.DEVICE_COOKIE,
            token,
            max_age=settings.PORTICO_REMEMBER_DEVICE_DAYS * 24 * 3600,
            secure=settings.SESSION_COOKIE_SECURE,
            httponly=True,
            samesite="Lax",
        )
    return response


def _masked(email: str) -> str:
    local, _, domain = email.partition("@")
    return f"{local[:1]}•••@{domain}"


@login_required
@never_cache
def verify(request):
    """The second step of signing in: a code from the authenticator app (or a recovery code),
    or the code emailed to a patient."""
    user = request.user
    if mfa.session_is_verified(request):
        return redirect(_pop_next(request))
    method = mfa.method_for(user)
    if method == mfa.METHOD_ENROLL:
        return redirect("accounts:mfa_enroll")
    if request.method == "POST" and "resend" in request.POST and method == mfa.METHOD_EMAIL:
        return _email_code_resend(request, user, "accounts:mfa_verify")
    form = SecondFactorForm(request.POST or None, method=method)
    if request.method == "POST" and form.is_valid():
        refused = _code_attempt(
            request,
            form,
            check=lambda code: mfa.second_factor_verify(user, code=code),
            page=lambda status: _verify_page(request, form, method, status=status),
        )
        if refused is not None:
            return refused
        return _passed(request, user, remember=form.cleaned_data["remember"])
    if method == mfa.METHOD_EMAIL:
        mfa.email_code_send(user)
    return _verify_page(request, form, method, status=200)


def _email_code_resend(request, user, page: str):
    mfa.email_code_send(user, force=True)
    messages.info(request, gettext("We sent a new code. Only the newest code works."))
    return redirect(page)


def _code_attempt(request, form, *, check, page):
    """Check the form's code with `check`, within the limits on wrong codes (per network
    address, and per half-signed-in session, which ends after too many). Returns None when
    the code was right, else the page to answer with (the form now says what was wrong)."""
    address = ratelimit.client_address(request)
    try:
        ratelimit.limit_check("mfa_code", address, rate=CODE_FAILURES_PER_ADDRESS)
    except ratelimit.RateLimited as exc:
        form.add_error(
            None,
            ngettext(
                "Too many wrong codes. Try again in %(minutes)s minute.",
                "Too many wrong codes. Try again in %(minutes)s minutes.",
                exc.minutes,
            )
            % {"minutes": exc.minutes},
        )
        return page(status=429)
    try:
        if check(form.cleaned_data["code"]):
            return None
        problem = mfa.WRONG_CODE
    except ValidationError as exc:
        problem = " ".join(exc.messages)
    ratelimit.limit_record("mfa_code", address, rate=CODE_FAILURES_PER_ADDRESS)
    failures = request.session.get(SESSION_FAILURES, 0) + 1
    request.session[SESSION_FAILURES] = failures
    if failures >= MAX_FAILURES_PER_SESSION:
        logout(request)
        messages.error(request, gettext("Too many wrong codes. Please sign in again."))
        return redirect("accounts:sign_in")
    form.add_error("code", problem)
    return page(status=200)


def _verify_page(request, form, method, *, status, enrolling=False):
    return render(
        request,
        "accounts/mfa_verify.html",
        {
            "form": form,
            "method": method,
            "masked_email": _masked(request.user.email),
            "enrolling": enrolling,
        },
        status=status,
    )


@login_required
@never_cache
def enroll(request):
    """Set up an authenticator app: staff must before reaching any chart; patients may."""
    user = request.user
    verified = mfa.session_is_verified(request)
    if not verified and mfa.method_for(user) != mfa.METHOD_ENROLL:
        return redirect("accounts:mfa_verify")
    if not verified and request.session.get(SESSION_ENROLL_EMAIL) != user.pk:
        return _enroll_email_step(request, user)
    secret = _enroll_secret(request)
    form = EnrollForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = mfa.authenticator_enroll(user, secret=secret, code=form.cleaned_data["code"])
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            request.session.pop(SESSION_ENROLL_SECRET, None)
            request.session.pop(SESSION_ENROLL_EMAIL, None)
            if not verified:
                mfa.session_mark_verified(request, user)
                request.session.cycle_key()
            next_url = _pop_next(request) if not verified else "accounts:profile"
            return _show_recovery_codes(request, codes, next_url)
    uri = mfa.totp_uri(user, secret)
    return render(
        request,
        "accounts/mfa_enroll.html",
        {
            "form": form,
            "qr_svg": mfa.totp_qr_svg(uri),
            "secret_groups": [secret[i : i + 4] for i in range(0, len(secret), 4)],
            "first_time": not verified,
        },
    )


def _enroll_secret(request) -> str:
    """The secret of the app being set up: the same until it is confirmed (the page may be
    reloaded), kept in the session only encrypted."""
    try:
        return crypto.decrypt(request.session[SESSION_ENROLL_SECRET])
    except (KeyError, crypto.DecryptionError):
        secret = mfa.totp_new_secret()
        request.session[SESSION_ENROLL_SECRET] = crypto.encrypt(secret)
        return secret


def _enroll_email_step(request, user):
    """Before the first app of an account is set up (staff at their first sign-in), the code
    emailed to the account: no QR code or secret is shown to a password alone."""
    if request.method == "POST" and "resend" in request.POST:
        return _email_code_resend(request, user, "accounts:mfa_enroll")
    form = EmailCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        refused = _code_attempt(
            request,
            form,
            check=lambda code: mfa.enroll_email_code_verify(user, code=code),
            page=lambda status: _verify_page(
                request, form, mfa.METHOD_EMAIL, status=status, enrolling=True
            ),
        )
        if refused is not None:
            return refused
        request.session[SESSION_ENROLL_EMAIL] = user.pk
        return redirect("accounts:mfa_enroll")
    mfa.email_code_send(user)
    return _verify_page(request, form, mfa.METHOD_EMAIL, status=200, enrolling=True)


def _show_recovery_codes(request, codes, next_url):
    from django.shortcuts import resolve_url

    return render(
        request,
        "accounts/mfa_recovery_codes.html",
        {"codes": codes, "next_url": resolve_url(next_url)},
    )


@login_required
@require_POST
def recovery_codes_new(request):
    try:
        codes = mfa.recovery_codes_regenerate(request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("accounts:profile")
    return _show_recovery_codes(request, codes, "accounts:profile")


@login_required
@require_POST
def authenticator_remove(request):
    try:
        mfa.authenticator_remove(request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request, gettext("You will get a code by email when you sign in on a new device.")
        )
    return redirect("accounts:profile")


@login_required
@require_POST
def device_forget(request, device_id):
    device = get_object_or_404(RememberedDevice, user=request.user, public_id=device_id)
    mfa.device_forget(request.user, device=device)
    messages.success(request, gettext("That device will ask for a code at the next sign-in."))
    return redirect("accounts:profile")


@never_cache
def session_status(request):
    """How long this session has left; asking is not activity (used by session.js)."""
    if not request.user.is_authenticated:
        return JsonResponse({"signed_in": False, "seconds_left": 0})
    return JsonResponse({"signed_in": True, "seconds_left": session_timeout.seconds_left(request)})


@require_POST
def session_keepalive(request):
    """ "Stay signed in": any request is activity, so this only answers (JSON or back)."""
    if not request.user.is_authenticated:
        return redirect("accounts:sign_in")
    session_timeout.session_touch(request)
    if request.headers.get("Accept", "").startswith("application/json"):
        return session_status(request)
    target = request.POST.get("next") or ""
    if not url_has_allowed_host_and_scheme(
        target, {request.get_host()}, require_https=request.is_secure()
    ):
        target = "home"
    return redirect(target)
