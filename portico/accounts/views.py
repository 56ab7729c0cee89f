from django.contrib import messages
from django.contrib.auth import logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from portico.accounts import mfa_views, services
from portico.accounts.forms import (
    ApiTokenForm,
    PasswordChangeForm,
    PasswordResetForm,
    RecoveryEmailForm,
    SignInForm,
)
from portico.accounts.models import ApiToken
from portico.core import ratelimit
from portico.core.forms import apply_service_errors


def _safe_next(request, fallback: str = "home") -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, {request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def sign_in(request):
    form = SignInForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            user = services.sign_in_check(
                request, login=form.cleaned_data["email"], password=form.cleaned_data["password"]
            )
        except services.SignInFailed as exc:
            # The same answer whether or not the account exists, waits or is locked.
            form.add_error(None, exc.message)
            status = exc.status
        else:
            services.sign_in_complete(request, user)  # Django cycles the session key here.
            return mfa_views.second_factor_begin(request, user, _safe_next(request))
    return render(
        request,
        "accounts/sign_in.html",
        {"form": form, "next": request.GET.get("next", "")},
        status=status,
    )


@require_POST
def sign_out(request):
    logout(request)
    messages.info(request, gettext("You have signed out."))
    return redirect("accounts:sign_in")


@login_required
def profile(request):
    form = ApiTokenForm()
    new_key = None
    if request.method == "POST":
        if request.practice is None:
            raise PermissionDenied("API tokens are for practice staff.")
        form = ApiTokenForm(request.POST)
        if form.is_valid():
            try:
                _token, new_key = services.api_token_create(
                    request.user, practice=request.practice, name=form.cleaned_data["name"]
                )
                form = ApiTokenForm()
            except ValidationError as exc:
                apply_service_errors(form, exc)
    tokens = ApiToken.objects.filter(user=request.user).select_related("practice")
    return render(
        request, "accounts/profile.html", {"form": form, "tokens": tokens, "new_key": new_key}
    )


@login_required
@require_POST
def token_revoke(request, token_id):
    token = get_object_or_404(ApiToken, user=request.user, public_id=token_id)
    services.api_token_revoke(request.user, token=token)
    messages.success(request, gettext("The token “%(name)s” was revoked.") % {"name": token.name})
    return redirect("accounts:profile")


@login_required
def password_change(request):
    form = PasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.password_change(
                request.user,
                current_password=form.cleaned_data["current_password"],
                new_password=form.cleaned_data["new_password"],
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            # Keep this session signed in; Django ends the others (their hash no longer matches).
            update_session_auth_hash(request, request.user)
            messages.success(request, gettext("Your password was changed."))
            return redirect("accounts:profile")
    return render(request, "accounts/password_change.html", {"form": form})


# ---------------------------------------------------------------------------
# Recovery: "Forgot password?", "Forgot username?" and the emailed reset link

_RECOVERY_PAGES = {
    "password": {
        "service": services.password_reset_request,
        "title": _("Forgot your password?"),
        "intro": _(
            "Enter the email address you use for Portico. If it belongs to an account, "
            "we email you a link to choose a new password."
        ),
        "button": _("Email me a reset link"),
        "sent": _(
            "If an account uses this address, an email with a link to choose a new "
            "password is on its way. The link works once, for one hour."
        ),
    },
    "username": {
        "service": services.username_reminder_request,
        "title": _("Forgot your username?"),
        "intro": _(
            "Your username is the email address you signed up with. Enter the address "
            "you think it is: if it belongs to an account, we email your username to it."
        ),
        "button": _("Email me my username"),
        "sent": _("If an account uses this address, an email with your username is on its way."),
    },
}


def _recovery_request(request, which: str):
    page = _RECOVERY_PAGES[which]
    form = RecoveryEmailForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            page["service"](request, email=form.cleaned_data["email"])
        except ValidationError as exc:
            apply_service_errors(form, exc)
        except ratelimit.RateLimited as exc:
            form.add_error(None, services.too_many_requests_message(exc.minutes))
            status = 429
        else:
            # The same answer whether or not the account exists.
            return render(request, "accounts/recovery_sent.html", {"page": page})
    return render(
        request, "accounts/recovery_request.html", {"form": form, "page": page}, status=status
    )


def password_forgot(request):
    return _recovery_request(request, "password")


def username_forgot(request):
    return _recovery_request(request, "username")


_RESET_KEY = "accounts.password_reset_key"


def password_reset_link(request, key):
    """The emailed link: keep its key in the session and continue at a URL without it, so the
    key does not linger in the address bar, the history or a Referer header."""
    if services.password_reset_user(key) is None:
        return render(request, "accounts/password_reset_broken.html", status=400)
    request.session[_RESET_KEY] = key
    return redirect("accounts:password_reset_new")


def password_reset_new(request):
    key = request.session.get(_RESET_KEY, "")
    if services.password_reset_user(key) is None:
        return render(request, "accounts/password_reset_broken.html", status=400)
    form = PasswordResetForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.password_reset_complete(
                key=key, new_password=form.cleaned_data["new_password"]
            )
        except ValidationError as exc:
            if getattr(exc, "code", None) == "reset_link":
                return render(request, "accounts/password_reset_broken.html", status=400)
            apply_service_errors(form, exc)
        else:
            request.session.pop(_RESET_KEY, None)
            messages.success(
                request, gettext("Your password was changed. Sign in with your new password.")
            )
            return redirect("accounts:sign_in")
    return render(request, "accounts/password_reset_new.html", {"form": form})
