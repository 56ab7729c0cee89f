"""The patient's check-in pages (SPEC §10.2): the forms waiting for a chart in the portal, and
the emailed link for a patient without portal access (checked with the date of birth, the
enrollment link's rules).

One set of pages fills in, reviews and submits a form, whichever way it was reached: a
FormAccess says how (the portal: the account and its access to the chart, whose checks and
audit context are the record pages'; the link: this browser's session after the date of birth,
while the link still works), and so who acts for the services (the account, or nobody).
"""

from __future__ import annotations

import functools
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from portico.audit import context as audit_context
from portico.audit.services import audit_read
from portico.core import ratelimit
from portico.core.forms import DateInput
from portico.intake import definition as defs
from portico.intake import fill, selectors, services
from portico.intake.models import IntakeForm
from portico.portal import representation
from portico.portal.language import use_chart_language
from portico.portal.patient_views import record_access, too_many_tries_message

# This browser's forms opened through their link: form public id → the link's hash (a newer
# link, or the form's submission, ends it).
LINK_SESSION_KEY = "intake_link_forms"
LINK_SUBMITTED_KEY = "intake_link_submitted"
READ_ACTION = "intake.form_view"

NARROWED_MESSAGE = _(
    "From the age of %(age)s, a patient fills in their check-in forms themselves: a parent's "
    "or guardian's access no longer includes them. The rest of the record stays open to you."
)
NOT_VERIFIED_MESSAGE = _(
    "To open this form, please open the check-in link in your email again and enter your date "
    "of birth."
)


class DateOfBirthForm(forms.Form):
    date_of_birth = forms.DateField(label=_("Date of birth"), widget=DateInput())


# ---------------------------------------------------------------------------
# How a form was reached


@dataclass
class FormAccess:
    """A form reached by the patient: through the portal (`access`, the account's access to
    the chart) or the emailed link (`access` None). `account` acts for the services."""

    form: IntakeForm
    account: Any = None
    access: Any = None
    accesses: list = field(default_factory=list)

    @property
    def by_link(self) -> bool:
        return self.access is None

    @property
    def base_template(self) -> str:
        return "base_public.html" if self.by_link else "base_patient.html"

    def url(self, page: str = "fill", section: int | None = None) -> str:
        prefix = "intake:link_form" if self.by_link else "intake:patient_form"
        name = prefix if page == "fill" else f"{prefix}_{page}"
        kwargs = {"form_id": self.form.public_id}
        if not self.by_link:
            kwargs["access_id"] = self.access.public_id
        url = reverse(name, kwargs=kwargs)
        return f"{url}?section={section}" if section else url

    def context(self, **more) -> dict:
        return {
            "fa": self,
            "form": self.form,
            "access": self.access,
            "accesses": self.accesses,
            "practice": self.form.practice,
            "base_template": self.base_template,
            "fill_url": self.url("fill"),
            "review_url": self.url("review"),
            "submit_url": self.url("submit"),
            **more,
        }


def _read(fa: FormAccess, page: str) -> None:
    audit_read(
        fa.account,
        action=READ_ACTION,
        patient=fa.form.patient,
        details={
            "form": str(fa.form.public_id),
            "page": page,
            "via": "link" if fa.by_link else "portal",
        },
    )


def _refused(request, context: dict, message, status: int = 403):
    return render(
        request, "intake/patient/refused.html", {**context, "message": message}, status=status
    )


def _not_open(request, fa: FormAccess):
    return _refused(request, fa.context(), services.NOT_OPEN_MESSAGE)


# ---------------------------------------------------------------------------
# The pages of one form (both ways)


def _items(fa: FormAccess, section: dict | None = None) -> dict:
    if not fill.needs_items(fa.form.definition, section):
        return {}
    return services.current_items(fa.form.patient)


def _fill_page(request, fa: FormAccess, number: int, *, typed=None, errors=None, status=200):
    form = fa.form
    sections = defs.sections(form.definition)
    section = sections[number - 1] if sections else {"questions": []}
    questions = fill.page_questions(
        form,
        section,
        typed=typed,
        errors=errors,
        items=_items(fa, section),
        signed_on=representation.practice_today(form.practice),
    )
    _read(fa, f"section {number}")
    return render(
        request,
        "intake/patient/fill.html",
        fa.context(
            section=section,
            number=number,
            total=len(sections),
            questions=questions,
            errors=[q for q in questions if q.errors],
        ),
        status=status,
    )


def form_fill(request, fa: FormAccess):
    """One section of the form (?section=N): GET shows it with the answers saved; POST saves
    its answers ("Save and continue", "Back", "Save and add more", "Save and come back
    later"); a failed save stores nothing and shows the page again as typed."""
    form = fa.form
    total = len(defs.sections(form.definition))
    number = fill.section_number(request.POST.get("section") or request.GET.get("section"), total)
    if request.method != "POST":
        if not form.is_open:
            return redirect(fa.url("review"))
        return _fill_page(request, fa, number)
    section = defs.sections(form.definition)[number - 1] if total else {"questions": []}
    answers, typed = fill.page_answers(form, section, request.POST)
    try:
        services.form_save(fa.account, form=form, answers=answers)
    except PermissionDenied:
        return _not_open(request, fa)
    except defs.AnswerErrors as exc:
        return _fill_page(request, fa, number, typed=typed, errors=exc.errors, status=400)
    action = request.POST.get("action")
    if action == "later":
        if fa.by_link:
            messages.success(
                request,
                gettext(
                    "Your answers are saved. To come back later, open the check-in link in your "
                    "email again."
                ),
            )
            return redirect(fa.url("fill", number))
        messages.success(request, gettext("Your answers are saved. You can come back later."))
        return redirect("intake:patient_forms", access_id=fa.access.public_id)
    if action == "more":
        return redirect(fa.url("fill", number))
    if action == "back":
        return redirect(fa.url("fill", max(number - 1, 1)))
    if number >= total:
        return redirect(fa.url("review"))
    return redirect(fa.url("fill", number + 1))


def _review_page(request, fa: FormAccess, *, errors=None, status=200):
    sections = fill.review_sections(fa.form, _items(fa))
    _read(fa, "review")
    return render(
        request,
        "intake/patient/review.html",
        fa.context(
            sections=sections,
            missing=fill.missing_lines(sections),
            submit_error=bool(errors),
            total=len(sections),
        ),
        status=status,
    )


def form_review(request, fa: FormAccess):
    """Every answer read-only, what is still required (with links to its section) and the
    Submit button; a submitted form's answers, read-only."""
    return _review_page(request, fa)


def form_submit(request, fa: FormAccess):
    """Submit the form (refused while a required question has no answer)."""
    try:
        form = services.form_submit(fa.account, form=fa.form)
    except PermissionDenied:
        return _not_open(request, fa)
    except defs.AnswerErrors as exc:
        return _review_page(request, fa, errors=exc.errors, status=400)
    if fa.by_link:
        session_forms = dict(request.session.get(LINK_SESSION_KEY) or {})
        session_forms.pop(str(form.public_id), None)
        request.session[LINK_SESSION_KEY] = session_forms
        # A page of its own to land on (reloading it, or choosing another language on it,
        # must not post the form again), naming only the practice.
        request.session[LINK_SUBMITTED_KEY] = form.practice.name
        return redirect("intake:link_submitted")
    messages.success(
        request, gettext("Thank you. Your form is submitted and the practice will review it.")
    )
    return redirect(fa.url("review"))


# ---------------------------------------------------------------------------
# The portal: the chart's forms, through the account's access


def portal_view(view):
    """A check-in page of a record in the portal, called as view(request, access, accesses,
    ...): the record pages' access check (another account's chart is a 404, an access no
    longer active a 403) and audit context (a representative acts for the patient); a
    representative whose access is narrowed (an adolescent's parent) may not open the forms."""

    @login_required
    @never_cache
    @functools.wraps(view)
    def wrapper(request, access_id, **kwargs):
        access, accesses, refusal = record_access(request, access_id)
        if refusal is not None:
            return refusal
        acting = (
            audit_context.acting_for(access.patient_id, access.relationship)
            if access.is_representative
            else nullcontext()
        )
        with acting:
            if not representation.scope_of(access).messages:
                message = NARROWED_MESSAGE % {"age": access.practice.representative_narrow_age}
                context = {"access": access, "accesses": accesses, "practice": access.practice}
                return _refused(request, {**context, "base_template": "base_patient.html"}, message)
            return view(request, access, accesses, **kwargs)

    return wrapper


def _portal_form(request, access, accesses, form_id) -> FormAccess:
    form = selectors.form_of_patient(access.patient, form_id)
    if form is None:
        raise Http404
    return FormAccess(form=form, account=request.user, access=access, accesses=accesses)


@portal_view
def patient_forms(request, access, accesses):
    """ "Check in for your appointment": the chart's forms, open ones first."""
    forms_ = list(selectors.forms_of_patient(access.patient))
    open_forms = [f for f in forms_ if f.is_open]
    done = [f for f in forms_ if not f.is_open]
    audit_read(
        request.user,
        action=READ_ACTION,
        patient=access.patient,
        details={"page": "list", "via": "portal"},
    )
    return render(
        request,
        "intake/patient/forms.html",
        {
            "access": access,
            "accesses": accesses,
            "practice": access.practice,
            "open_forms": open_forms,
            "done_forms": done,
        },
    )


@portal_view
def patient_form(request, access, accesses, form_id):
    return form_fill(request, _portal_form(request, access, accesses, form_id))


@portal_view
def patient_form_review(request, access, accesses, form_id):
    return form_review(request, _portal_form(request, access, accesses, form_id))


@require_POST
@portal_view
def patient_form_submit(request, access, accesses, form_id):
    return form_submit(request, _portal_form(request, access, accesses, form_id))


# ---------------------------------------------------------------------------
# The emailed link (a patient without portal access)


def _link_error(request, error: services.LinkError):
    status = 403 if error.code == "locked" else 410
    return render(request, "intake/patient/link_error.html", {"error": error}, status=status)


@never_cache
def link(request, token):
    """ "Check in for your appointment" from the email: the patient's date of birth opens the
    form in this browser (wrong answers count towards the link's lock)."""
    try:
        form = services.form_for_link(token)
    except services.LinkError as exc:
        return _link_error(request, exc)
    use_chart_language(request, form.patient)
    dob_form = DateOfBirthForm(request.POST or None)
    limited = False
    if request.method == "POST":
        try:
            ratelimit.limit_hit(
                "intake_link",
                ratelimit.client_address(request),
                rate=settings.PORTICO_RATE_LIMITS["registration"],
            )
        except ratelimit.RateLimited as exc:
            dob_form.add_error(None, too_many_tries_message(exc.minutes))
            limited = True
    if request.method == "POST" and not limited and dob_form.is_valid():
        try:
            form = services.link_verify(token, date_of_birth=dob_form.cleaned_data["date_of_birth"])
        except services.LinkError as exc:
            return _link_error(request, exc)
        except ValidationError as exc:
            for message in exc.message_dict.get("date_of_birth", exc.messages):
                dob_form.add_error("date_of_birth", message)
        else:
            session_forms = dict(request.session.get(LINK_SESSION_KEY) or {})
            session_forms[str(form.public_id)] = form.link_token_hash
            request.session[LINK_SESSION_KEY] = session_forms
            request.session.cycle_key()
            return redirect("intake:link_form", form_id=form.public_id)
    return render(
        request,
        "intake/patient/link.html",
        {"dob_form": dob_form, "practice": form.practice},
        status=429 if limited else 200,
    )


def link_view(view):
    """A page of a form opened through its link: only in the browser that entered the date of
    birth, and while that link still works (not submitted, withdrawn, replaced, expired or
    locked). Called as view(request, FormAccess)."""

    @never_cache
    @functools.wraps(view)
    def wrapper(request, form_id):
        session_forms = request.session.get(LINK_SESSION_KEY) or {}
        link_hash = session_forms.get(str(form_id)) if isinstance(session_forms, dict) else None
        if not link_hash:
            return _refused(request, {"base_template": "base_public.html"}, NOT_VERIFIED_MESSAGE)
        form = (
            IntakeForm.objects.select_related(
                "practice", "patient", "appointment", "appointment__provider", "version"
            )
            .filter(public_id=form_id, link_token_hash=link_hash)
            .first()
        )
        if form is None or not form.link_is_live:
            message = (
                services.LINK_LOCKED_MESSAGE
                if form is not None and form.link_locked_at
                else services.LINK_GONE_MESSAGE
            )
            return _refused(request, {"base_template": "base_public.html"}, message, status=410)
        use_chart_language(request, form.patient)
        return view(request, FormAccess(form=form))

    return wrapper


def link_submitted(request):
    """The thanks after a form was submitted through its link, in this browser (no form and
    no patient: the practice's name only); elsewhere, the page of a link that is gone."""
    practice_name = request.session.get(LINK_SUBMITTED_KEY)
    if not practice_name:
        return _refused(
            request, {"base_template": "base_public.html"}, services.LINK_GONE_MESSAGE, status=410
        )
    return render(
        request,
        "intake/patient/submitted.html",
        {"base_template": "base_public.html", "practice_name": practice_name},
    )


@link_view
def link_form(request, fa):
    return form_fill(request, fa)


@link_view
def link_form_review(request, fa):
    return form_review(request, fa)


@require_POST
@link_view
def link_form_submit(request, fa):
    return form_submit(request, fa)
