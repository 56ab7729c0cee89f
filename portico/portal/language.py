"""Which language a page speaks (issue 13, SPEC §12).

The first of these that names a language the portal speaks (settings.LANGUAGES):
1. the choice made with the language switcher in this browser (a cookie), the latest choice;
2. the account's choice (saved by the same switcher when signed in, so it follows the person to
   a new browser and to the emails sent to them);
3. the preferred language of the chart the person reaches: the charts of a signed-in patient's
   account (looked up once per session), or, on a registration page, the invited chart's
   (`use_chart_language`);
4. the browser's Accept-Language; else English.

Staff pages (the EHR) stay English until their catalogue is translated; they are marked for
translation already.
"""

from __future__ import annotations

from django.conf import settings
from django.utils import translation
from django.utils.cache import patch_vary_headers

from portico.core.languages import spoken
from portico.portal.models import AccessState, PortalAccess

# Where a signed-in patient's chart language is kept for the session ("" = none).
CHART_LANGUAGE_KEY = "portico_chart_language"
# URL namespaces of the staff pages, which stay English for now; and the staff pages of apps
# that serve both sides (messaging), which all live under /ehr/.
STAFF_NAMESPACES = frozenset({"charts", "practices", "outreach"})
STAFF_PATH_PREFIX = "/ehr/"


def account_chart_language(account) -> str:
    """The portal language of the chart the account registered most recently, or ""."""
    languages = (
        PortalAccess.objects.filter(account=account, state=AccessState.ACTIVE)
        .order_by("-enrolled_at", "-id")
        .values_list("patient__preferred_language", flat=True)[:1]
    )
    return spoken(languages[0]) if languages else ""


def _chart_language(request) -> str:
    session = request.session
    if CHART_LANGUAGE_KEY not in session:
        session[CHART_LANGUAGE_KEY] = account_chart_language(request.user)
    return session[CHART_LANGUAGE_KEY]


def chosen_language(request) -> str:
    """The language the person chose (switcher cookie, else account), or ""."""
    choice = spoken(request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME))
    if not choice and request.user.is_authenticated:
        choice = spoken(request.user.language)
    return choice


def _activate(request, language: str) -> None:
    translation.activate(language)
    request.LANGUAGE_CODE = language


def use_chart_language(request, patient) -> None:
    """On a page about one chart before sign-in (registration), speak the chart's preferred
    language unless the person chose one."""
    if not request.language_chosen and patient.portal_language:
        _activate(request, patient.portal_language)


class LanguageMiddleware:
    """Activates the page's language (see the module's docstring) and says which it was."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        language = chosen_language(request)
        request.language_chosen = bool(language)
        user = request.user
        if not language and user.is_authenticated and getattr(request, "membership", None) is None:
            language = _chart_language(request)
        if not language:
            language = translation.get_language_from_request(request)
        _activate(request, language)
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", translation.get_language())
        patch_vary_headers(response, ("Accept-Language", "Cookie"))
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        namespace = match.namespaces[0] if match is not None and match.namespaces else ""
        if namespace in STAFF_NAMESPACES or request.path_info.startswith(STAFF_PATH_PREFIX):
            _activate(request, settings.LANGUAGE_CODE)
