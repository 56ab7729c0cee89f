"""The forms of EHR Settings > Intake. They only read what was typed: whether a template,
section or question is right is intake.definition.validate_definition's decision (through
services.template_save), whose messages the views put next to these fields."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from portico.intake import builder
from portico.intake import definition as defs
from portico.intake.ready import READY_TEMPLATES


class TemplateNameForm(forms.Form):
    name = forms.CharField(label=_("Template name"), max_length=100, required=False)


class InstallForm(forms.Form):
    which = forms.ChoiceField(
        label=_("Ready template"),
        choices=[(key, name) for key, (name, _definition) in READY_TEMPLATES.items()],
    )


class SectionForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200, required=False)
    description = forms.CharField(
        label=_("Description"),
        max_length=2000,
        required=False,
        help_text=_("Optional: a sentence shown under the title."),
        widget=forms.Textarea(attrs={"rows": 2}),
    )


CHART_FIELD_CHOICES = [("", _("None"))] + [
    (key, label) for key, (label, _types) in defs.CHART_FIELDS.items()
]


class QuestionForm(forms.Form):
    """One question. The options of each type are in their own group; the page shows the
    groups that fit the type chosen, and only those are kept."""

    type = forms.ChoiceField(label=_("Type of answer"), choices=defs.QuestionType.choices)
    text = forms.CharField(label=_("Question"), max_length=500, required=False)
    help = forms.CharField(
        label=_("Help text"),
        max_length=500,
        required=False,
        help_text=_("Optional: shown under the question."),
    )
    required = forms.BooleanField(label=_("The patient must answer"), required=False)
    choices = forms.CharField(
        label=_("Choices"),
        required=False,
        help_text=_("One choice a line, in the order the patient sees them (at least two)."),
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    unit = forms.CharField(
        label=_("Unit"),
        max_length=30,
        required=False,
        help_text=_("Optional, such as “lb” or “in”."),
    )
    min = forms.CharField(label=_("Lowest value"), max_length=30, required=False)
    max = forms.CharField(label=_("Highest value"), max_length=30, required=False)
    decimals = forms.CharField(
        label=_("Decimal places"),
        required=False,
        help_text=_("0 for whole numbers, up to 4."),
        widget=forms.NumberInput(attrs={"min": 0, "max": 4}),
    )
    consent_text = forms.CharField(
        label=_("What the patient agrees to"),
        max_length=8000,
        required=False,
        help_text=_("The patient ticks a box and types their full name to sign; the date is kept."),
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    chart_field = forms.ChoiceField(
        label=_("Chart field"),
        choices=CHART_FIELD_CHOICES,
        required=False,
        help_text=_("Staff may accept the answer into this field of the chart."),
    )
    condition = forms.CharField(label=_("Show this question"), required=False)

    def __init__(self, *args, condition_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.condition_choices = list(condition_choices)

    @property
    def chosen_type(self) -> str:
        """The type the page is about: what was posted, else the question's own."""
        value = self.data.get("type") if self.is_bound else None
        if value not in defs.QuestionType.values:
            value = self.initial.get("type")
        return value if value in defs.QuestionType.values else defs.QuestionType.SHORT_TEXT

    @property
    def is_choice(self) -> bool:
        return self.chosen_type in defs.CHOICE_TYPES

    @property
    def is_number(self) -> bool:
        return self.chosen_type == defs.QuestionType.NUMBER

    @property
    def is_consent(self) -> bool:
        return self.chosen_type == defs.QuestionType.CONSENT

    @property
    def may_fill_chart(self) -> bool:
        return any(self.chosen_type in types for _label, types in defs.CHART_FIELDS.values())

    @property
    def shows_chart_field(self) -> bool:
        """The chart field's select: for the types that fit one, and for any question that has
        one (so a type that does not fit shows it, with its message, to clear it)."""
        return self.may_fill_chart or bool(self["chart_field"].value())

    @property
    def is_list(self) -> bool:
        return self.chosen_type in defs.LIST_TYPES

    @property
    def condition_value(self) -> str:
        if self.is_bound:
            return self.data.get("condition", "")
        return self.initial.get("condition", "")

    def question(self, key: str, old: dict | None = None) -> dict:
        """The question as the definition stores it (call after is_valid())."""
        data = self.cleaned_data
        kind = data["type"]
        question: dict = {
            "key": key,
            "type": kind,
            "text": data["text"],
            "help": data["help"],
            "required": data["required"],
        }
        if kind in defs.CHOICE_TYPES:
            question["choices"] = builder.choices_from_lines(
                data["choices"], (old or {}).get("choices")
            )
        if kind == defs.QuestionType.NUMBER:
            question.update(
                unit=data["unit"], min=data["min"], max=data["max"], decimals=data["decimals"]
            )
        if kind == defs.QuestionType.CONSENT:
            question["consent_text"] = data["consent_text"]
        if data["chart_field"]:
            question["chart_field"] = data["chart_field"]
        show_if = builder.parse_condition(data["condition"])
        if show_if is not None:
            question["show_if"] = show_if
        return question

    @classmethod
    def initial_of(cls, question: dict) -> dict:
        return {
            "type": question.get("type"),
            "text": question.get("text", ""),
            "help": question.get("help", ""),
            "required": bool(question.get("required")),
            "choices": builder.choices_as_lines(question),
            "unit": question.get("unit", ""),
            "min": question.get("min") or "",
            "max": question.get("max") or "",
            "decimals": question.get("decimals", 0),
            "consent_text": question.get("consent_text", ""),
            "chart_field": question.get("chart_field", ""),
            "condition": builder.condition_value(question.get("show_if")),
        }
