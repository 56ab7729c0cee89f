"""SMART App Launch, the patient's side: which record, and consent (SPEC §11.1).

django-oauth-toolkit's authorization view checks the request (the app, its exact redirect URI,
PKCE with S256, the scopes) and issues the code; this page adds what a patient portal needs: the
patient signs in as usual (second factor included), picks which record the app may read when the
account holds several (own records at several practices, records they represent), and sees what
the app will read before allowing it. Allowing makes the connection (fhir.services.connect) that
every code and token of the app is then tied to.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django import forms
from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from oauth2_provider.exceptions import OAuthToolkitError
from oauth2_provider.forms import AllowForm
from oauth2_provider.models import get_application_model
from oauth2_provider.views import AuthorizationView
from oauthlib.oauth2.rfc6749.errors import InvalidRequestError

from portico.core.security import build_policy
from portico.fhir import scopes as smart_scopes
from portico.fhir import services
from portico.portal import representation
from portico.portal.selectors import patient_access_list


def connectable_records(account) -> list:
    """The records the account may connect an app to: its active accesses, own and
    represented (what the portal's record switcher offers)."""
    return [a for a in patient_access_list(account) if representation.is_active(a)]


class ConsentForm(AllowForm):
    """The toolkit's hidden fields, plus the record the app may read and the FHIR server the
    app named (`aud`)."""

    # Needed to allow, not to refuse: "Don't allow" works without choosing a record.
    record = forms.ChoiceField(
        label=gettext_lazy("Which record may the app read?"),
        widget=forms.RadioSelect,
        required=False,
    )

    def __init__(self, *args, records=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.records = list(records)
        self.fields["record"].choices = [
            (str(a.public_id), representation.record_label(a)) for a in self.records
        ]
        if len(self.records) == 1:
            self.fields["record"].initial = str(self.records[0].public_id)
        self.fields["record"].error_messages["required"] = _("Choose the record the app may read.")
        self.fields["record"].error_messages["invalid_choice"] = _("Choose one of your records.")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("allow") and not cleaned.get("record") and "record" not in self.errors:
            self.add_error("record", self.fields["record"].error_messages["required"])
        return cleaned

    def chosen_access(self):
        wanted = self.cleaned_data["record"]
        return next(a for a in self.records if str(a.public_id) == wanted)


@method_decorator(never_cache, name="dispatch")
class SmartAuthorizationView(AuthorizationView):
    template_name = "fhir/authorize.html"
    form_class = ConsentForm

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["records"] = connectable_records(self.request.user)
        return kwargs

    def get(self, request, *args, **kwargs):
        audience = request.GET.get("aud")
        if audience is not None and audience.rstrip("/") != settings.PORTICO_FHIR_BASE_URL:
            return self._refusal(
                _("The app asked for another server's records (%(aud)s), not this one's.")
                % {"aud": audience},
            )
        if not connectable_records(request.user):
            return self._refusal(
                _(
                    "Your account has no record an app could read. Sign in with the account "
                    "your practice invited you to."
                )
            )
        if "approval_prompt" in request.GET:
            # The patient always sees the consent page and picks the record: the toolkit's
            # "approval_prompt=auto" would skip both and issue a code tied to no record.
            request.GET = request.GET.copy()
            del request.GET["approval_prompt"]
        return super().get(request, *args, **kwargs)

    def validate_authorization_request(self, request):
        scopes, credentials = super().validate_authorization_request(request)
        # PKCE with S256 only: a "plain" challenge goes back to the app before any consent.
        if credentials.get("code_challenge_method") != "S256":
            raise OAuthToolkitError(
                error=InvalidRequestError(
                    description='PKCE with code_challenge_method "S256" is required.',
                    state=credentials.get("state"),
                ),
                redirect_uri=credentials["redirect_uri"],
            )
        return scopes, credentials

    def _refusal(self, message: str) -> HttpResponse:
        return render(self.request, "fhir/authorize_refused.html", {"message": message}, status=400)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        requested = context.get("scopes") or []
        context["reads"] = smart_scopes.consent_lines(requested)
        context["records"] = self.get_form_kwargs()["records"]
        return context

    def form_invalid(self, form):
        # The page again, with the app and what it reads, and the message by the record list.
        scopes = form.data.get("scope", "").split()
        application = (
            get_application_model().objects.filter(client_id=form.data.get("client_id", "")).first()
        )
        if application is None:
            return self._refusal(_("This app is not registered with Portico."))
        context = {
            "form": form,
            "application": application,
            "scopes": scopes,
            "reads": smart_scopes.consent_lines(scopes),
            "records": form.records,
        }
        return self.render_to_response(context, status=400)

    def form_valid(self, form):
        self._connection_id = None
        if form.cleaned_data.get("allow"):
            application = get_application_model().objects.get(
                client_id=form.cleaned_data["client_id"]
            )
            connection = services.connect(
                self.request.user,
                application=application,
                access=form.chosen_access(),
                scopes=form.cleaned_data["scope"].split(),
            )
            self._connection_id = connection.pk
        return super().form_valid(form)

    def render_to_response(self, context, **response_kwargs):
        response = super().render_to_response(context, **response_kwargs)
        application = context.get("application")
        form = context.get("form")
        redirect_uri = context.get("redirect_uri") or (
            form.data.get("redirect_uri") if form else ""
        )
        if (
            application is not None
            and redirect_uri
            and application.redirect_uri_allowed(redirect_uri)
        ):
            response["Content-Security-Policy"] = consent_page_policy(redirect_uri)
        return response

    def create_authorization_response(self, request, scopes, credentials, allow):
        if allow:
            # Read by portico.fhir.oauth.PorticoValidator.save_authorization_code.
            credentials = {**credentials, "portico_connection": self._connection_id}
        return super().create_authorization_response(request, scopes, credentials, allow)


def consent_page_policy(redirect_uri: str) -> str:
    """The consent page's Content-Security-Policy: Portico's own, except that its form may also
    go to the app's redirect URI. The answer to the form redirects the browser to the app, and
    browsers apply `form-action` to the redirects that follow a form (Chromium does): with
    `form-action 'self'` alone, "Allow" and "Don't allow" would never reach the app."""
    parts = urlsplit(redirect_uri)
    directives = dict(settings.PORTICO_CONTENT_SECURITY_POLICY)
    directives["form-action"] = f"'self' {parts.scheme}://{parts.netloc}"
    return build_policy(directives)


def smart_configuration(request):
    """SMART App Launch's discovery document (`/.well-known/smart-configuration`)."""
    from django.http import JsonResponse
    from django.urls import reverse

    base = settings.PORTICO_BASE_URL
    data = {
        "issuer": base,
        "jwks_uri": base + reverse("oauth2_provider:jwks-info"),
        "authorization_endpoint": base + reverse("oauth2_provider:authorize"),
        "token_endpoint": base + reverse("oauth2_provider:token"),
        "revocation_endpoint": base + reverse("oauth2_provider:revoke-token"),
        "userinfo_endpoint": base + reverse("oauth2_provider:user-info"),
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "response_types_supported": ["code"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "scopes_supported": [
            *smart_scopes.OTHER_SCOPES,
            "patient/*.rs",
            "patient/*.read",
            *(f"patient/{t}.rs" for t in smart_scopes.RESOURCE_TYPES),
        ],
        "code_challenge_methods_supported": ["S256"],
        "capabilities": [
            "launch-standalone",
            "client-public",
            "client-confidential-symmetric",
            "context-standalone-patient",
            "permission-patient",
            "permission-offline",
            "permission-v1",
            "permission-v2",
            "sso-openid-connect",
        ],
    }
    response = JsonResponse(data)
    response["Cache-Control"] = "public, max-age=3600"
    return response
