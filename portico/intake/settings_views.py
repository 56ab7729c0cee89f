"""EHR Settings > Intake (SPEC §10.1): the practice's intake templates, the builder of a
template's sections and questions, its preview, and the form each visit type sends by itself.

Administrators only (practices.permissions.can_manage_settings; others get 403). A template
named in a URL is looked up in the current practice first, so another practice's is a 404.
Every edit makes the new definition (intake.builder) and calls services.template_save, which
validates it and applies the versioning rule; its messages show next to the fields and nothing
is saved. Everything works without JavaScript: each button is its own small form.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from portico.core.forms import apply_service_errors
from portico.intake import builder, selectors, services
from portico.intake import definition as defs
from portico.intake.settings_forms import (
    InstallForm,
    QuestionForm,
    SectionForm,
    TemplateNameForm,
)
from portico.practices.decorators import administrator_required
from portico.scheduling import selectors as scheduling_selectors

NO_FORM = ""


# --- The Intake page: templates and automatic forms ----------------------------------------


def _rule_field(visit_type) -> str:
    return f"visit_type_{visit_type.public_id}"


def _intake_page(request, status: int = 200, **context):
    practice = request.practice
    templates = list(selectors.templates_of(practice).annotate(forms_sent=Count("forms")))
    for template in templates:
        version = template.current_version
        template.question_count = len(defs.questions(version.definition if version else {}))
    active = [t for t in templates if t.is_active]
    rules = selectors.visit_type_rules(practice)
    posted = context.pop("posted_rules", None)
    rule_errors = context.pop("rule_errors", {})
    visit_types = []
    for visit_type in scheduling_selectors.visit_types(practice):
        rule = rules.get(visit_type.pk)
        current = str(rule.template.public_id) if rule is not None else NO_FORM
        field = _rule_field(visit_type)
        visit_types.append(
            {
                "visit_type": visit_type,
                "field": field,
                "rule": rule,
                "chosen": posted.get(field, current) if posted is not None else current,
                "error": rule_errors.get(field),
            }
        )
    context.setdefault("new_form", TemplateNameForm(prefix="new"))
    context.setdefault("install_form", InstallForm(prefix="install"))
    return render(
        request,
        "intake/settings/home.html",
        {
            "templates": templates,
            "active_templates": active,
            "visit_types": visit_types,
            **context,
        },
        status=status,
    )


@administrator_required
def settings_home(request):
    """EHR Settings > Intake: the templates (add an empty one or install a ready one) and the
    form each visit type sends by itself. Three forms post here; a hidden "form" field says
    which."""
    if request.method in ("GET", "HEAD"):
        return _intake_page(request)
    if request.method != "POST":
        return HttpResponseNotAllowed(["GET", "POST"])
    which = request.POST.get("form")
    if which == "new":
        return _template_new(request)
    if which == "install":
        return _template_install(request)
    if which == "automatic":
        return _automatic_forms(request)
    return _intake_page(request, status=400)


def _template_new(request):
    form = TemplateNameForm(request.POST, prefix="new")
    if form.is_valid():
        try:
            template = services.template_create(
                request.user, practice=request.practice, name=form.cleaned_data["name"]
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("The template “%(name)s” is added: add its sections and questions.")
                % {"name": template.name},
            )
            return redirect("intake:settings_template", template_id=template.public_id)
    return _intake_page(request, status=400, new_form=form)


def _template_install(request):
    form = InstallForm(request.POST, prefix="install")
    if form.is_valid():
        try:
            template = services.ready_template_install(
                request.user, practice=request.practice, which=form.cleaned_data["which"]
            )
        except ValidationError as exc:
            if "name" in getattr(exc, "message_dict", {}):
                form.add_error(
                    "which",
                    _(
                        "The practice already has a template of that name: rename it first "
                        "to install the ready one beside it."
                    ),
                )
            else:
                apply_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("The ready template “%(name)s” is added.") % {"name": template.name},
            )
            return redirect("intake:settings")
    return _intake_page(request, status=400, install_form=form)


def _automatic_forms(request):
    """Each active visit type with the template it sends by itself ("" for none), saved at
    once: a choice that is not one of the practice's active templates is refused beside its
    visit type and nothing changes."""
    practice = request.practice
    by_id = {str(t.public_id): t for t in selectors.templates_of(practice, active_only=True)}
    chosen = []
    errors: dict[str, str] = {}
    for visit_type in scheduling_selectors.visit_types(practice):
        field = _rule_field(visit_type)
        value = request.POST.get(field, NO_FORM)
        if value != NO_FORM and value not in by_id:
            errors[field] = _("Choose one of the practice's templates, or “No form”.")
            continue
        chosen.append((visit_type, by_id.get(value)))
    if not errors:
        try:
            with transaction.atomic():
                for visit_type, template in chosen:
                    services.visit_type_intake_set(
                        request.user, visit_type=visit_type, template=template
                    )
        except ValidationError as exc:
            errors["__all__"] = " ".join(exc.messages)
        else:
            messages.success(request, _("The automatic forms are saved."))
            return redirect("intake:settings")
    return _intake_page(
        request,
        status=400,
        posted_rules=request.POST,
        rule_errors=errors,
        rules_error=errors.get("__all__"),
    )


# --- One template: the builder ---------------------------------------------------------------


def _template_or_404(request, template_id):
    template = selectors.template_of(request.practice, template_id)
    if template is None:
        raise Http404
    return template


def _version_note(template) -> dict:
    version = template.current_version
    return {
        "version": version,
        "in_use": version is not None and services.version_in_use(version),
    }


def _saved(request, before, version) -> None:
    """Say what the save did: changed the version in place, or made a new one."""
    if before is not None and version.pk != before.pk:
        messages.success(
            request,
            _(
                "Saved as version %(new)s: new forms use it. Forms already sent keep version "
                "%(old)s."
            )
            % {"new": version.number, "old": before.number},
        )
    else:
        messages.success(request, _("Saved."))


def _save(request, template, *, definition=None, name=None):
    """services.template_save; returns the ValidationError instead of raising it."""
    before = template.current_version
    try:
        version = services.template_save(
            request.user, template=template, definition=definition, name=name
        )
    except ValidationError as exc:
        return exc
    _saved(request, before, version)
    return None


def _definition_messages(exc: ValidationError) -> list[str]:
    if not hasattr(exc, "error_dict"):
        return list(exc.messages)
    return [text for texts in exc.message_dict.values() for text in texts]


def _sections_view(definition: dict) -> list[dict]:
    """The sections and their questions with their numbers and conditions in words."""
    n = 0
    found = []
    for index, section in enumerate(definition.get("sections") or []):
        rows = []
        section_questions = section.get("questions") or []
        for q_index, question in enumerate(section_questions):
            n += 1
            rows.append(
                {
                    "n": n,
                    "q": question,
                    "type_label": defs.QuestionType(question["type"]).label
                    if question.get("type") in defs.QuestionType.values
                    else question.get("type"),
                    "condition": builder.condition_words(definition, question),
                    "first": q_index == 0,
                    "last": q_index == len(section_questions) - 1,
                    "chart_field_label": defs.CHART_FIELDS[question["chart_field"]][0]
                    if question.get("chart_field") in defs.CHART_FIELDS
                    else "",
                }
            )
        found.append(
            {
                "s": section,
                "questions": rows,
                "first": index == 0,
                "last": index == len(definition["sections"]) - 1,
            }
        )
    return found


def _builder_page(request, template, status: int = 200, **context):
    definition = builder.current_definition(template)
    context.setdefault("name_form", TemplateNameForm(initial={"name": template.name}))
    return render(
        request,
        "intake/settings/template.html",
        {
            "template": template,
            "sections": _sections_view(definition),
            "question_types": defs.QuestionType.choices,
            **_version_note(template),
            **context,
        },
        status=status,
    )


@administrator_required
def template_page(request, template_id):
    """A template's builder: its name, version, sections and questions, each with its buttons.
    POST renames it."""
    template = _template_or_404(request, template_id)
    if request.method in ("GET", "HEAD"):
        return _builder_page(request, template)
    if request.method != "POST":
        return HttpResponseNotAllowed(["GET", "POST"])
    form = TemplateNameForm(request.POST)
    if form.is_valid():
        error = _save(request, template, name=form.cleaned_data["name"])
        if error is None:
            return redirect("intake:settings_template", template_id=template.public_id)
        apply_service_errors(form, error)
    return _builder_page(request, template, status=400, name_form=form)


MOVES = {
    "section_up": ("section", -1),
    "section_down": ("section", 1),
    "question_up": ("question", -1),
    "question_down": ("question", 1),
}
REMOVES = {"section_remove": "section", "question_remove": "question"}


@administrator_required
@require_POST
def template_change(request, template_id):
    """Move a section or question up or down, or remove one (the builder's buttons: "do" and
    "key"). A question another question's condition depends on is not removed."""
    template = _template_or_404(request, template_id)
    definition = builder.current_definition(template)
    do, key = request.POST.get("do", ""), request.POST.get("key", "")
    if do in MOVES:
        kind, step = MOVES[do]
        changed = builder.moved(definition, kind, key, step)
    elif do in REMOVES:
        result = builder.removed(definition, REMOVES[do], key)
        changed = None
        if result is not None:
            changed, gone = result
            waiting = builder.dependents(definition, gone)
            if waiting:
                return _builder_page(
                    request,
                    template,
                    status=400,
                    change_errors=[_depended_on_message(definition, gone, waiting)],
                )
            if gone and do == "section_remove" and request.POST.get("confirmed") != "yes":
                # A section with questions goes only once the administrator confirms.
                found = builder.section_at(definition, key)
                return _builder_page(
                    request,
                    template,
                    confirm_remove={
                        "key": key,
                        "title": found[1].get("title") if found else key,
                        "count": len(gone),
                    },
                )
    else:
        return _builder_page(
            request, template, status=400, change_errors=[_("Choose one of the buttons.")]
        )
    if changed is None:
        return _builder_page(
            request,
            template,
            status=400,
            change_errors=[_("That section or question is no longer in the template.")],
        )
    if changed == definition:
        return redirect("intake:settings_template", template_id=template.public_id)
    error = _save(request, template, definition=changed)
    if error is not None:
        placed = builder.place_messages(_definition_messages(error), changed)
        return _builder_page(
            request,
            template,
            status=400,
            change_errors=[
                _("Nothing was changed: the template would not be right."),
                *placed.general,
            ],
        )
    return redirect("intake:settings_template", template_id=template.public_id)


def _depended_on_message(definition: dict, gone: set[str], waiting: list[dict]) -> str:
    targets = {(w.get("show_if") or {}).get("question") for w in waiting if w.get("show_if")} & gone
    target_texts = [
        builder.question_at(definition, key)[2].get("text", "")  # type: ignore[index]
        for key in sorted(targets, key=lambda k: builder.number_of(definition, k) or 0)
    ]
    dependent_texts = [
        f"{builder.number_of(definition, w['key'])}. “{w.get('text', '')}”" for w in waiting
    ]
    return _(
        "“%(question)s” cannot be removed: %(dependents)s is shown only depending on its "
        "answer. Change or remove that condition first."
    ) % {
        "question": "”, “".join(target_texts),
        "dependents": ", ".join(dependent_texts),
    }


@administrator_required
@require_POST
def template_active(request, template_id):
    """Retire a template (no new forms; visit types stop sending it) or bring it back."""
    template = _template_or_404(request, template_id)
    active = {"on": True, "off": False}.get(request.POST.get("active", ""))
    if active is None:
        return _builder_page(
            request, template, status=400, change_errors=[_("Choose retire or bring back.")]
        )
    services.template_active_set(request.user, template=template, active=active)
    if active:
        messages.success(
            request, _("“%(name)s” is in use again: it can be sent.") % {"name": template.name}
        )
    else:
        messages.success(
            request,
            _("“%(name)s” is retired: it is no longer sent. Forms already sent are kept.")
            % {"name": template.name},
        )
    return redirect("intake:settings_template", template_id=template.public_id)


@administrator_required
def template_preview(request, template_id):
    """The template as the patient sees it, read-only, conditions in words."""
    template = _template_or_404(request, template_id)
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET"])
    definition = builder.current_definition(template)
    return render(
        request,
        "intake/settings/preview.html",
        {
            "template": template,
            "sections": _sections_view(definition),
            **_version_note(template),
        },
    )


# --- Sections -------------------------------------------------------------------------------


@administrator_required
def section_edit(request, template_id):
    """Add a section at the end of the template, or change one's (?key=) title and
    description."""
    template = _template_or_404(request, template_id)
    section_key = request.GET.get("key") or None
    definition = builder.current_definition(template)
    section = None
    if section_key is not None:
        found = builder.section_at(definition, section_key)
        if found is None:
            raise Http404
        section_number, section = found[0] + 1, found[1]
    else:
        section_number = len(definition.get("sections") or []) + 1
    if request.method == "POST":
        form = SectionForm(request.POST)
        if form.is_valid():
            changed, _key = builder.section_put(
                definition,
                section_key,
                title=form.cleaned_data["title"],
                description=form.cleaned_data["description"],
                taken=builder.used_keys(template),
            )
            error = _save(request, template, definition=changed)
            if error is None:
                return redirect("intake:settings_template", template_id=template.public_id)
            placed = builder.place_messages(
                _definition_messages(error), changed, section_number=section_number
            )
            _place(form, placed)
        status = 400
    elif request.method in ("GET", "HEAD"):
        initial = {}
        if section is not None:
            initial = {"title": section.get("title"), "description": section.get("description")}
        form, status = SectionForm(initial=initial), 200
    else:
        return HttpResponseNotAllowed(["GET", "POST"])
    return render(
        request,
        "intake/settings/section_form.html",
        {"template": template, "section": section, "form": form, **_version_note(template)},
        status=status,
    )


def _place(form, placed: builder.Placed) -> None:
    for name, texts in placed.fields.items():
        for text in texts:
            form.add_error(name if name in form.fields else None, text)
    for text in placed.general:
        form.add_error(None, text)


# --- Questions ------------------------------------------------------------------------------

# The question form's second button: show the options of the type chosen, save nothing.
SHOW_TYPE = "show_type"


@administrator_required
def question_edit(request, template_id):
    """Change a question (?key=), or add one at the end of a section (?section=; ?type= its
    type); a new question's key is made from its text and never changes."""
    template = _template_or_404(request, template_id)
    question_key = request.GET.get("key") or None
    section_key = request.GET.get("section") or None
    definition = builder.current_definition(template)
    old = None
    if question_key is not None:
        where = builder.question_at(definition, question_key)
        if where is None:
            raise Http404
        section, _index, old = where
    else:
        found = builder.section_at(definition, section_key or "")
        if found is None:
            raise Http404
        section = found[1]
    choices = builder.condition_choices(
        definition, before=question_key, section_key=str(section.get("key"))
    )
    if request.method == "POST" and SHOW_TYPE in request.POST:
        # "Show this type's options": the same form again, as typed, for the type chosen.
        typed = {name: request.POST.get(name, "") for name in QuestionForm.base_fields}
        typed["required"] = bool(request.POST.get("required"))
        form, status = QuestionForm(initial=typed, condition_choices=choices), 200
    elif request.method == "POST":
        form = QuestionForm(request.POST, condition_choices=choices)
        if form.is_valid():
            key = (
                question_key
                if question_key is not None
                else builder.new_key(
                    form.cleaned_data["text"], builder.used_keys(template), fallback="question"
                )
            )
            question = form.question(key, old)
            changed, number = builder.question_put(
                definition, str(section.get("key")), question, new=question_key is None
            )
            error = _save(request, template, definition=changed)
            if error is None:
                return redirect("intake:settings_template", template_id=template.public_id)
            placed = builder.place_messages(
                _definition_messages(error), changed, question_number=number
            )
            _place(form, placed)
        status = 400
    elif request.method in ("GET", "HEAD"):
        if old is not None:
            initial = QuestionForm.initial_of(old)
        else:
            kind = request.GET.get("type", "")
            initial = {"type": kind if kind in defs.QuestionType.values else "short_text"}
        form, status = QuestionForm(initial=initial, condition_choices=choices), 200
    else:
        return HttpResponseNotAllowed(["GET", "POST"])
    return render(
        request,
        "intake/settings/question_form.html",
        {
            "template": template,
            "section": section,
            "question": old,
            "number": builder.number_of(definition, question_key) if question_key else None,
            "form": form,
            **_version_note(template),
        },
        status=status,
    )
