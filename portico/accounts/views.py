from django.contrib import messages
from django.contrib.auth import authenticate, login, logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from portico.accounts import services
from portico.accounts.forms import ApiTokenForm, PasswordChangeForm, SignInForm
from portico.accounts.models import ApiToken
from portico.core.forms import apply_service_errors

SIGN_IN_FAILED = "The email or password is not right."


def _safe_next(request, fallback: str = "home") -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, {request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def sign_in(request):
    form = SignInForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = authenticate(
            request,
            username=form.cleaned_data["email"].strip().lower(),
            password=form.cleaned_data["password"],
        )
        if user is None:
            # The same answer whether or not the account exists.
            form.add_error(None, SIGN_IN_FAILED)
        else:
            login(request, user)  # Django cycles the session key here.
            return redirect(_safe_next(request))
    return render(
        request, "accounts/sign_in.html", {"form": form, "next": request.GET.get("next", "")}
    )


@require_POST
def sign_out(request):
    logout(request)
    messages.info(request, "You have signed out.")
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
    messages.success(request, f"The token “{token.name}” was revoked.")
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
            messages.success(request, "Your password was changed.")
            return redirect("accounts:profile")
    return render(request, "accounts/password_change.html", {"form": form})
