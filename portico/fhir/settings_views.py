"""EHR Settings > Patient apps (SPEC §11.1): the SMART on FHIR apps the practice registered for
its patients, registering one (its secret, for a confidential client, shown once), and removing
one (every patient's connection to it ends).

Administrators only (practices.permissions.can_manage_settings; others get 403). An app named
in a URL is looked up among the current practice's own, so another practice's app, or one the
deployment's operator registered, is a 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from portico.fhir import selectors, services
from portico.fhir.settings_forms import CONFIDENTIAL, AppRegisterForm
from portico.practices.decorators import administrator_required


def _apps_page(request, *, form, registered=None):
    return render(
        request,
        "fhir/settings/apps.html",
        {
            "form": form,
            "apps": selectors.apps_of_practice(request.practice),
            "operator_apps": selectors.operator_apps(),
            "registered": registered,
        },
    )


@administrator_required
@require_http_methods(["GET", "HEAD", "POST"])
def patient_apps(request):
    """The practice's apps and the form that registers one; after registering, the page shows
    the new app's client id and, for a confidential client, its secret (only its hash is
    kept, so this is the only time anyone sees it)."""
    if request.method != "POST":
        return _apps_page(request, form=AppRegisterForm())
    form = AppRegisterForm(request.POST)
    if form.is_valid():
        try:
            registered = services.register_app(
                request.user,
                name=form.cleaned_data["name"],
                redirect_uris=form.cleaned_data["redirect_uris"],
                confidential=form.cleaned_data["client_type"] == CONFIDENTIAL,
                practice=request.practice,
            )
        except services.AppInputError as exc:
            for field, errors in exc.errors.items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
        else:
            return _apps_page(request, form=AppRegisterForm(), registered=registered)
    return _apps_page(request, form=form)


@administrator_required
@require_http_methods(["GET", "HEAD", "POST"])
def patient_app_remove(request, client_id):
    """Remove one of the practice's apps: a page that asks (GET), and its form (POST)."""
    application = selectors.app_of_practice(request.practice, client_id)
    if application is None:
        raise Http404
    if request.method == "POST":
        ended = services.remove_app(request.user, application, practice=request.practice)
        messages.success(
            request,
            ngettext(
                "“%(app)s” is removed; %(count)s patient connection to it ended.",
                "“%(app)s” is removed; %(count)s patient connections to it ended.",
                ended,
            )
            % {"app": application.name, "count": ended},
        )
        return redirect("fhir_settings:apps")
    return render(request, "fhir/settings/remove_confirm.html", {"application": application})
