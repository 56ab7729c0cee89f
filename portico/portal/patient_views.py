"""The patient side: registration through the emailed link, the portal home with the
account's records (its own and those it represents, SPEC §9.2), the record switcher, and the
patient's "Who can see my record" page where they end or renew representatives' access
(SPEC §9.4)."""

from __future__ import annotations

import datetime as dt
import functools
from contextlib import nullcontext
from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache

from portico.accounts import mfa, session_timeout
from portico.accounts.services import SignInFailed, sign_in_check
from portico.audit import context as audit_context
from portico.audit.services import audit_read
from portico.core import ratelimit
from portico.core.forms import apply_service_errors
from portico.portal import registration, representation, selectors, services
from portico.portal.forms import (
    CreateAccountForm,
    LinkAccountForm,
    PhoneVerifyForm,
    SecurityCodeForm,
    VerifyIdentityForm,
)
from portico.portal.language import use_chart_language
from portico.portal.models import AccessState, InvitationOrigin, Representative

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


# ---------------------------------------------------------------------------
# The account's records (SPEC §9.2)


def _listed(account, accesses) -> None:
    """Audit the home page's list: one read per chart shown, a represented chart's as its
    representative (acting-as, like every page of that record)."""
    for access in accesses:
        acting = (
            audit_context.acting_for(access.patient_id, access.relationship)
            if access.is_representative
            else nullcontext()
        )
        with acting:
            services.records_listed(account, accesses=[access])


@login_required
@never_cache
def home(request):
    """The account's records, checked against their access on every request: its own, then
    those it manages for others (whose record, and the relationship). A record whose access
    was revoked or ended shows the access error, never a link into it."""
    accesses = selectors.patient_access_list(request.user)
    active = [a for a in accesses if representation.is_active(a)]
    if len(active) == 1 and len(accesses) == 1:
        return redirect("records:record", access_id=active[0].public_id)
    _listed(request.user, accesses)
    return render(
        request,
        "portal/home.html",
        {
            "accesses": accesses,
            "own": [a for a in accesses if not a.is_representative],
            "represented": [a for a in accesses if a.is_representative],
            "active": active,
            "no_access_message": services.NO_ACCESS_MESSAGE,
        },
    )


@login_required
@never_cache
def switch(request):
    """The header's record switcher (a GET form): open the chosen record of the account's. An
    id that is not one of the account's records is a 404; the record page itself checks the
    access (a revoked or ended one answers with the access error)."""
    chosen = request.GET.get("record", "")
    if not chosen:
        return redirect("portal:home")
    accesses = selectors.patient_access_list(request.user)
    access = next((a for a in accesses if str(a.public_id) == chosen), None)
    if access is None:
        raise Http404
    return redirect("records:record", access_id=access.public_id)


def record_access(request, access_id):
    """The signed-in account's access to the record `access_id` and the account's list of
    accesses, with None; or, for an access no longer active (revoked, ended), the page with
    the access error (403) in third place. Another account's chart or an unknown id is a 404.
    Every page of a record checks its access here (records.views.patient_record_view,
    own_record_view), so a revoke takes effect on the next request."""
    accesses = selectors.patient_access_list(request.user)
    access = next((a for a in accesses if str(a.public_id) == str(access_id)), None)
    if access is None:
        raise Http404
    if not representation.is_active(access):
        refusal = render(
            request,
            "portal/no_access.html",
            {
                "access": access,
                "accesses": accesses,
                "no_access_message": services.NO_ACCESS_MESSAGE,
            },
            status=403,
        )
        return access, accesses, refusal
    return access, accesses, None


# ---------------------------------------------------------------------------
# "Who can see my record" (SPEC §9.4): the patient's own access only

PATIENT_ONLY_MESSAGE = _("Only the patient can see who has access to their record and change it.")


def own_record_view(view):
    """A page of the patient's own record that a representative may not use.

    Called as view(request, access, accesses, ...). As for every record page (records.views.
    patient_record_view): another account's chart or an unknown id is a 404 and an access no
    longer active answers with the access error (403); a representative's access answers 403
    with PATIENT_ONLY_MESSAGE.
    """

    @login_required
    @never_cache
    @functools.wraps(view)
    def wrapper(request, access_id, **kwargs):
        access, accesses, refusal = record_access(request, access_id)
        if refusal is not None:
            return refusal
        if access.is_representative:
            return _refused(request, access, accesses, PATIENT_ONLY_MESSAGE)
        return view(request, access, accesses, **kwargs)

    return wrapper


def _refused(request, access, accesses, message):
    return render(
        request,
        "portal/representatives_refused.html",
        {"access": access, "accesses": accesses, "practice": access.practice, "message": message},
        status=403,
    )


def _viewed(account, access, page: str) -> None:
    """Audit the patient's read of a page about who sees their record (names and
    relationships are health information too)."""
    audit_read(account, action="phr.view", patient=access.patient, details={"page": page})


# A representative's state as the patient reads it on "Who can see my record".
STATE_LABELS = {
    AccessState.ACTIVE: _("Can see your record"),
    AccessState.INVITED: _("Invited, not registered yet"),
    AccessState.EXPIRED: _("Invitation expired"),
    AccessState.CANCELLED: _("Invitation cancelled"),
    AccessState.REVOKED: _("Ended by the practice"),
    AccessState.ENDED: _("Ended"),
}


@dataclass(frozen=True)
class RepresentativeRow:
    """One line of "Who can see my record"."""

    representative: Representative
    state: str
    state_label: str
    since: object  # a date or a datetime (shown in the practice's time zone)
    until: object  # the last day of access, when one is set
    coming_of_age: object  # the birthday on which a parent's access ends, when it will
    sees_messages: bool
    can_end: bool
    can_renew: bool


def _since(representative: Representative, state: str):
    """When the representative's current state began."""
    if state == AccessState.ACTIVE:
        return representative.renewed_at or representative.enrolled_at
    invitation = representative.current_invitation
    if state in (AccessState.INVITED, AccessState.EXPIRED):
        return invitation.created_at if invitation is not None else None
    if representative.ended_at is not None:
        return representative.ended_at
    if state == AccessState.ENDED:
        day = representation.coming_of_age_day(representative)
        if day is not None and representation.came_of_age(representative):
            return day
        if representative.ends_on is not None:
            return representative.ends_on + dt.timedelta(days=1)
    return invitation.ended_at if invitation is not None else None


def _row(representative: Representative, may_manage: bool) -> RepresentativeRow:
    state = representative.effective_state
    open_state = representation.is_endable(representative)  # active or invited
    renewable = representation.is_renewable(representative)
    return RepresentativeRow(
        representative=representative,
        state=state,
        state_label=str(STATE_LABELS.get(state, AccessState(state).label)),
        since=_since(representative, state),
        until=representative.ends_on if open_state else None,
        coming_of_age=representation.coming_of_age_day(representative) if open_state else None,
        sees_messages=representation.scope_of(representative).messages,
        can_end=may_manage and open_state,
        can_renew=may_manage and renewable,
    )


@own_record_view
def representatives(request, access, accesses):
    """Everyone who can see (or could see) the patient's record on their behalf: name,
    relationship, state, since when and until when; "End access" and, for a parent's access
    that ended when the patient came of age, "Renew access"."""
    _viewed(request.user, access, "representatives")
    may_manage = representation.may_manage_representatives(access)
    rows = [_row(r, may_manage) for r in selectors.representatives_of(access.patient)]
    return render(
        request,
        "portal/representatives.html",
        {
            "access": access,
            "accesses": accesses,
            "practice": access.practice,
            "patient": access.patient,
            "rows": rows,
            "may_manage": may_manage,
            "narrow_age": access.practice.representative_narrow_age,
        },
    )


def _representative(access, representative_id) -> Representative:
    found = selectors.representative_of(access.patient, representative_id)
    if found is None:
        raise Http404
    return found


def _confirm(request, access, accesses, representative, *, change: str, error: str = ""):
    """The confirm step of ending or renewing: the page asks; its form posts."""
    status = 409 if error else 200
    if request.method == "GET":
        _viewed(request.user, access, f"{change} representative")
        if change == "end" and not representation.is_endable(representative):
            error = gettext("This person's access has already ended.")
        elif change == "renew" and not representation.is_renewable(representative):
            error = gettext("Only access that ended when you came of age can be renewed.")
    return render(
        request,
        "portal/representative_confirm.html",
        {
            "access": access,
            "accesses": accesses,
            "practice": access.practice,
            "representative": representative,
            "relationship": representation.relationship_noun(representative.relationship),
            "change": change,
            "error": error,
            "end_age": access.practice.representative_end_age,
        },
        status=status,
    )


def _change(request, access, accesses, representative_id, *, change: str, service, done):
    """The confirm page (GET) and the change (POST) of ending or renewing access. A child under
    the narrowing age is refused both (the service refuses the change itself too)."""
    representative = _representative(access, representative_id)
    if request.method == "GET" and not representation.may_manage_representatives(access):
        return _refused(
            request,
            access,
            accesses,
            gettext("Until you are %(age)s, ask your practice to change who sees your record.")
            % {"age": access.practice.representative_narrow_age},
        )
    if request.method == "POST":
        try:
            service(request.user, access=access, representative=representative)
        except services.InvalidTransition as exc:
            return _confirm(
                request, access, accesses, representative, change=change, error=exc.message
            )
        except PermissionDenied as exc:
            return _refused(request, access, accesses, str(exc) or PATIENT_ONLY_MESSAGE)
        messages.success(request, done % {"name": representative.name})
        return redirect("portal:representatives", access_id=access.public_id)
    return _confirm(request, access, accesses, representative, change=change)


@own_record_view
def representative_end(request, access, accesses, representative_id):
    """End a representative's access (or their pending invitation): a page that asks, and its
    form that does it (portal.services.representative_end)."""
    return _change(
        request,
        access,
        accesses,
        representative_id,
        change="end",
        service=services.representative_end,
        done=gettext("%(name)s can no longer see your record."),
    )


@own_record_view
def representative_renew(request, access, accesses, representative_id):
    """Renew a parent's or guardian's access that ended when the patient came of age: a page
    that asks, and its form that does it (portal.services.representative_renew)."""
    return _change(
        request,
        access,
        accesses,
        representative_id,
        change="renew",
        service=services.representative_renew,
        done=gettext("%(name)s can see your record again."),
    )
