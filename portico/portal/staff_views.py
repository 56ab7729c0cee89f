"""The chart page with its "Patient portal access" window (SPEC §2.3, §3.2), and the window's
staff actions: invite, resend, cancel, revoke, unlock, reset; and for the chart's
representatives (SPEC §9.1): invite, resend, cancel, revoke, invite again, unlock, edit, and
each one's troubleshooter.

Every page here is the chart page (its read is audited as the chart's, `chart_viewed`); the
actions only change things, through portal.services, and come back to the window."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from portico.charts import selectors as chart_selectors
from portico.charts import services as chart_services
from portico.charts.validation import format_phone
from portico.core.forms import apply_service_errors
from portico.portal import services
from portico.portal.forms import PortalContactForm
from portico.portal.models import Relationship, Representative
from portico.portal.selectors import RepresentativeRow, portal_window, representative_of
from portico.portal.staff_forms import (
    RepresentativeContactForm,
    RepresentativeDetailsForm,
    RepresentativeInviteForm,
)
from portico.practices import permissions
from portico.practices.decorators import staff_required

# The representatives' forms are prefixed, so that their fields' names and ids are apart from
# the patient's contact form's and from each other's on the page.
INVITE_PREFIX = "rep"


def _row_prefix(public_id) -> str:
    return f"rep-{public_id}"


@dataclass
class RepresentativeForms:
    """A representative's row with its forms: contact details for resending or inviting
    again, and name, relationship and end date (bound with errors after a failed post)."""

    row: RepresentativeRow
    contact: PortalContactForm
    details: RepresentativeDetailsForm
    open: str = ""  # which of the row's forms failed and is shown open: "contact", "details"


@dataclass
class Failed:
    """A representative's form that failed, to show again with its messages."""

    representative: Representative
    kind: str  # "contact" or "details"
    form: PortalContactForm | RepresentativeDetailsForm


def _representative_forms(rows: list[RepresentativeRow], failed: Failed | None):
    forms = []
    for row in rows:
        prefix = _row_prefix(row.public_id)
        contact = RepresentativeContactForm(
            initial={"email": row.invitation_email, "phone": format_phone(row.phone)},
            prefix=prefix,
        )
        details = RepresentativeDetailsForm(
            initial={
                "name": row.name,
                "relationship": row.representative.relationship,
                "ends_on": row.ends_on,
            },
            prefix=prefix,
        )
        entry = RepresentativeForms(row, contact, details)
        if failed is not None and failed.representative.pk == row.representative.pk:
            setattr(entry, failed.kind, failed.form)
            entry.open = failed.kind
        forms.append(entry)
    return forms


def render_chart(
    request,
    patient,
    *,
    portal_open=False,
    contact_form=None,
    confirm=None,
    status=200,
    representative_form=None,
    representative_confirm=None,
    failed: Failed | None = None,
    troubleshoot: Representative | None = None,
):
    """The chart page, optionally with the "Patient portal access" window open (with one
    representative's troubleshooter in place of the patient's when `troubleshoot` is given)."""
    window = portal_window(
        patient,
        request.membership,
        with_timeline=False,
        with_troubleshooter=True,
        with_representatives=True,
        troubleshoot=troubleshoot,
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
    chart_services.chart_viewed(
        request.user,
        patient=patient,
        what="chart" if troubleshoot is None else "representative troubleshooter",
    )
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
            "representative_rows": _representative_forms(window.representatives, failed),
            "representative_form": representative_form
            or RepresentativeInviteForm(prefix=INVITE_PREFIX),
            "representative_confirm": representative_confirm,
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


# --- Representatives (SPEC §9.1) -------------------------------------------------------------


def _window_url(patient) -> str:
    return reverse("charts:chart", args=[patient.public_id]) + "?portal=open"


def _require_inviter(request) -> None:
    # Refuse before showing a form's errors or a confirmation; the service checks again.
    permissions.require(
        permissions.can_invite_patients(request.membership),
        gettext("You do not have permission to invite patients to the portal."),
    )


def _representative_or_404(patient, representative_id) -> Representative:
    """One of this chart's representatives; another chart's (or practice's) is not found."""
    representative = representative_of(patient, representative_id)
    if representative is None:
        raise Http404
    return representative


def _hidden(form, **values: str) -> list[tuple[str, str]]:
    """The checked values as the confirmation step posts them again (with the form's prefix)."""
    return [(form.add_prefix(name), value) for name, value in values.items()]


def _contact_facts(form) -> list[tuple[str, str]]:
    """The contact fields of a confirmation, under the form's own labels."""
    data = form.cleaned_data
    return [
        (str(form.fields["email"].label), data["email"]),
        (str(form.fields["phone"].label), format_phone(data["phone"]) or "—"),
    ]


@staff_required
def representative_invite(request, patient_id):
    """ "Invite a representative": check the form, confirm, then invite (a new representative
    of the chart with their own access code and enrollment email)."""
    patient = chart_selectors.chart_of(request.practice, patient_id)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    _require_inviter(request)
    form = RepresentativeInviteForm(request.POST, prefix=INVITE_PREFIX)
    if not form.is_valid():
        return render_chart(
            request, patient, portal_open=True, representative_form=form, status=400
        )
    data = form.cleaned_data
    if request.POST.get("confirmed") != "yes":
        ends_on = data["ends_on"]
        return render_chart(
            request,
            patient,
            portal_open=True,
            representative_form=form,
            representative_confirm={
                "url": reverse("charts:representative_invite", args=[patient.public_id]),
                "text": gettext(
                    "Please make sure all the information is correct. %(name)s will receive an "
                    "enrollment email at this address; give them the access code shown after "
                    "you invite. They register with the patient's date of birth and their own "
                    "access code, and see this patient's record on the patient's behalf."
                )
                % {"name": data["name"]},
                "facts": [
                    (gettext("Representative's name"), data["name"]),
                    (gettext("Relationship"), Relationship(data["relationship"]).label),
                    *_contact_facts(form),
                    (
                        gettext("End date"),
                        date_format(ends_on, "M j, Y") if ends_on else gettext("None"),
                    ),
                ],
                "hidden": _hidden(
                    form,
                    name=data["name"],
                    relationship=data["relationship"],
                    email=data["email"],
                    phone=data["phone"],
                    ends_on=ends_on.isoformat() if ends_on else "",
                ),
                "button": gettext("Invite"),
                "danger": False,
            },
        )
    try:
        services.representative_invite(
            request.user,
            patient=patient,
            name=data["name"],
            relationship=data["relationship"],
            email=data["email"],
            phone=data["phone"],
            ends_on=data["ends_on"],
        )
    except ValidationError as exc:
        apply_service_errors(form, exc)
        return render_chart(
            request, patient, portal_open=True, representative_form=form, status=400
        )
    messages.success(
        request,
        gettext(
            "%(name)s was invited as a representative. Give them the access code shown in the "
            "representatives list."
        )
        % {"name": data["name"]},
    )
    return redirect(_window_url(patient))


# action → (service, asks for contact details, confirmation text, done message, button, danger)
REPRESENTATIVE_ACTIONS = {
    "resend": (
        services.representative_resend,
        True,
        _(
            "Resend %(name)s's invite? A new access code and a new link replace the old ones; "
            "they will need the new code. The patient's own access is not changed."
        ),
        _("A new invitation was sent to %(name)s. The old access code and link no longer work."),
        _("Resend invite"),
        False,
    ),
    "reinvite": (
        services.representative_reinvite,
        True,
        _(
            "Invite %(name)s again? They get a new enrollment email and a new access code, and "
            "register again with the patient's date of birth and the new code. The patient's "
            "own access is not changed."
        ),
        _(
            "%(name)s was invited again. Give them the access code shown in the "
            "representatives list."
        ),
        _("Invite again"),
        False,
    ),
    "cancel": (
        services.representative_cancel,
        False,
        _(
            "Cancel %(name)s's invite? Its access code and link stop working. The patient's own "
            "access is not changed."
        ),
        _("%(name)s's invite was cancelled."),
        _("Cancel invite"),
        True,
    ),
    "revoke": (
        services.representative_revoke,
        False,
        _(
            "Revoke %(name)s's access to this record? It ends at once: their next page shows "
            "that they have no access. The patient's own access, and other representatives', "
            "are not changed."
        ),
        _("%(name)s's access was revoked."),
        _("Revoke access"),
        True,
    ),
    "unlock": (
        services.representative_account_unlock,
        False,
        _("Unlock %(name)s's account? They can then sign in with their password again."),
        _("%(name)s's account was unlocked."),
        _("Unlock account"),
        False,
    ),
}


@staff_required
def representative_action(request, patient_id, representative_id, action):
    """One representative's action from the window: edit their details at once; resend,
    invite again, cancel, revoke or unlock after a confirmation."""
    # Chart, then representative, are looked up first: another chart's is 404 whatever else.
    patient = chart_selectors.chart_of(request.practice, patient_id)
    representative = _representative_or_404(patient, representative_id)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if action == "edit":
        return _representative_edit(request, patient, representative)
    if action not in REPRESENTATIVE_ACTIONS:
        raise Http404
    service, needs_contact, confirm_text, done, button, danger = REPRESENTATIVE_ACTIONS[action]
    _require_inviter(request)
    name = {"name": representative.name}
    form = None
    if needs_contact:
        form = RepresentativeContactForm(request.POST, prefix=_row_prefix(representative.public_id))
        if not form.is_valid():
            return render_chart(
                request,
                patient,
                portal_open=True,
                failed=Failed(representative, "contact", form),
                status=400,
            )
    if request.POST.get("confirmed") != "yes":
        return render_chart(
            request,
            patient,
            portal_open=True,
            representative_confirm={
                "url": reverse(
                    "charts:representative_action",
                    args=[patient.public_id, representative.public_id, action],
                ),
                "text": confirm_text % name,
                "facts": _contact_facts(form) if form is not None else [],
                "hidden": (
                    _hidden(
                        form, email=form.cleaned_data["email"], phone=form.cleaned_data["phone"]
                    )
                    if form is not None
                    else []
                ),
                "button": button,
                "danger": danger,
            },
        )
    kwargs = {}
    if form is not None:
        kwargs = {"email": form.cleaned_data["email"], "phone": form.cleaned_data["phone"]}
    try:
        service(request.user, representative=representative, **kwargs)
    except ValidationError as exc:
        form = form or RepresentativeContactForm(prefix=_row_prefix(representative.public_id))
        apply_service_errors(form, exc)
        return render_chart(
            request,
            patient,
            portal_open=True,
            failed=Failed(representative, "contact", form),
            status=400,
        )
    except services.InvalidTransition as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done % name)
    return redirect(_window_url(patient))


def _representative_edit(request, patient, representative: Representative):
    """Correct a representative's name or relationship, or set or clear their end date."""
    _require_inviter(request)
    form = RepresentativeDetailsForm(request.POST, prefix=_row_prefix(representative.public_id))
    failed = Failed(representative, "details", form)
    if not form.is_valid():
        return render_chart(request, patient, portal_open=True, failed=failed, status=400)
    data = form.cleaned_data
    try:
        services.representative_update(
            request.user,
            representative=representative,
            name=data["name"],
            relationship=data["relationship"],
            ends_on=data["ends_on"],
        )
    except ValidationError as exc:
        apply_service_errors(form, exc)
        return render_chart(request, patient, portal_open=True, failed=failed, status=400)
    messages.success(request, gettext("%(name)s's details were saved.") % {"name": data["name"]})
    return redirect(_window_url(patient))


@staff_required
def representative_troubleshooter(request, patient_id, representative_id):
    """The chart page with the window open on one representative's troubleshooter."""
    patient = chart_selectors.chart_of(request.practice, patient_id)
    representative = _representative_or_404(patient, representative_id)
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    return render_chart(request, patient, portal_open=True, troubleshoot=representative)
