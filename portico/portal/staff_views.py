"""The chart page with its "Patient portal access" window (SPEC §2.3, §3.2), and the window's
staff actions: invite, resend, cancel, revoke, unlock, reset."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from portico.charts import selectors as chart_selectors
from portico.charts import services as chart_services
from portico.charts.validation import format_phone
from portico.core.forms import apply_service_errors
from portico.portal import services
from portico.portal.forms import PortalContactForm
from portico.portal.selectors import portal_window
from portico.practices import permissions
from portico.practices.decorators import staff_required


def render_chart(
    request, patient, *, portal_open=False, contact_form=None, confirm=None, status=200
):
    """The chart page, optionally with the "Patient portal access" window open."""
    window = portal_window(
        patient, request.membership, with_timeline=False, with_troubleshooter=True
    )
    if contact_form is None:
        contact_form = PortalContactForm(
            initial={
                "email": (window.invitation.email if window.invitation else patient.email),
                "phone": format_phone(
                    window.invitation.phone if window.invitation else patient.mobile_phone
                ),
            }
        )
    chart_services.chart_viewed(request.user, patient=patient)
    return render(
        request,
        "charts/chart.html",
        {
            "patient": patient,
            "portal": window,
            "portal_open": portal_open,
            "contact_form": contact_form,
            "confirm": confirm,
            "mobile_phone_display": format_phone(patient.mobile_phone),
        },
        status=status,
    )


@staff_required
def chart(request, patient_id):
    patient = chart_selectors.chart_of(request.practice, patient_id)
    return render_chart(request, patient, portal_open=request.GET.get("portal") == "open")


# action → (service, needs contact details, confirmation text, done message)
ACTIONS = {
    "invite": (
        services.invitation_issue,
        True,
        _(
            "Please make sure all the information is correct. The patient will receive an "
            "enrollment email at this address; give them the access code shown after you invite."
        ),
        _("The invitation was sent. Give the patient the access code shown here."),
    ),
    "resend": (
        services.invitation_resend,
        True,
        _(
            "Please make sure all the information is correct. A new access code and a new link "
            "replace the old ones; the patient will need the new code."
        ),
        _("A new invitation was sent. The old access code and link no longer work."),
    ),
    "cancel": (
        services.invitation_cancel,
        False,
        _("Cancel this invite? Its access code and link will stop working."),
        _("The invite was cancelled."),
    ),
    "revoke": (
        services.access_revoke,
        False,
        _(
            "Revoke this patient's portal access? They lose access to this record at once, "
            "also in a session that is open now."
        ),
        _("Portal access was revoked."),
    ),
    "unlock": (
        services.portal_account_unlock,
        False,
        _("Unlock the patient's account? They can then sign in with their password again."),
        _("The patient's account was unlocked."),
    ),
    "reset": (
        services.portal_account_reset,
        False,
        _(
            "Reset the patient's portal account? Their current access or invite ends at once and "
            "a new invitation with a new access code is emailed to the chart's address."
        ),
        _(
            "The portal account was reset. A new invitation was sent; give the patient the new "
            "access code shown here."
        ),
    ),
}


@staff_required
def portal_action(request, patient_id, action):
    # The chart is looked up first, so another practice's chart is 404 whatever the method.
    patient = chart_selectors.chart_of(request.practice, patient_id)
    if action not in ACTIONS:
        raise Http404
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    service, needs_contact, confirm_text, done = ACTIONS[action]
    # Refuse before showing a confirmation; the service checks again when it acts.
    permissions.require(
        permissions.can_invite_patients(request.membership),
        gettext("You do not have permission to invite patients to the portal."),
    )
    contact_form = PortalContactForm(request.POST) if needs_contact else None
    if contact_form is not None and not contact_form.is_valid():
        return render_chart(request, patient, portal_open=True, contact_form=contact_form)
    if request.POST.get("confirmed") != "yes":
        # Two steps, no JavaScript needed: show what will happen, then do it on "Invite".
        return render_chart(
            request,
            patient,
            portal_open=True,
            contact_form=contact_form,
            confirm={"action": action, "text": confirm_text},
        )
    kwargs = {}
    if contact_form is not None:
        kwargs = {
            "email": contact_form.cleaned_data["email"],
            "phone": contact_form.cleaned_data["phone"],
        }
    try:
        service(request.user, patient=patient, **kwargs)
    except ValidationError as exc:
        form = contact_form or PortalContactForm()
        apply_service_errors(form, exc)
        return render_chart(request, patient, portal_open=True, contact_form=form)
    except services.InvalidTransition as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return redirect(reverse("charts:chart", args=[patient.public_id]) + "?portal=open")
