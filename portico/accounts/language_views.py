"""The language switcher (issue 13): in the header of every patient and public page."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from portico.accounts import services
from portico.core.languages import spoken


@require_POST
def choose_language(request):
    """Switch the pages' language and go back to the page the person was on.

    Remembered in this browser (a cookie, also before sign-in) and, when signed in, on the
    account, so emails and other browsers follow it.
    """
    language = request.POST.get("language", "")
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        back = "/"
    response = redirect(back)
    if not spoken(language):
        messages.error(request, _("That language is not available."))
        return response
    if request.user.is_authenticated:
        services.account_language_set(request.user, language)
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )
    return response
