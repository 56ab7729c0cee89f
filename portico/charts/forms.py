from django import forms
from django.db import models as dj_models
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from portico.charts.clinical_rules import EDITABLE
from portico.charts.models import (
    AbnormalFlag,
    Allergy,
    CarePlan,
    CodeSystem,
    Encounter,
    Medication,
    Patient,
)
from portico.charts.services import DEMOGRAPHIC_FIELDS
from portico.core.forms import DateInput, TelInput


class PatientSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Search by name or date of birth"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Name, or 04/21/1980")}),
    )


class DemographicsForm(forms.ModelForm):
    """Shape and widgets only; the rules live in charts.services."""

    class Meta:
        model = Patient
        fields = list(DEMOGRAPHIC_FIELDS)
        labels = {
            "legal_first_name": _("Legal first name"),
            "legal_last_name": _("Legal last name"),
            "date_of_birth": _("Date of birth"),
            "mobile_phone": _("Mobile phone"),
            "address_line1": _("Address"),
            "address_line2": _("Address line 2"),
            "postal_code": _("ZIP code"),
        }
        help_texts = {
            "preferred_language": _(
                "English or Spanish: the patient's portal pages and emails use it until the "
                "patient chooses a language."
            ),
        }
        widgets = {
            "date_of_birth": DateInput(),
            "email": forms.EmailInput(attrs={"autocomplete": "off"}),
            "mobile_phone": TelInput(),
        }

    def _post_clean(self):
        # Validation happens in the service; skip the ModelForm's model validation here.
        pass


# ---------------------------------------------------------------------------------------------
# Clinical record forms: shape and widgets only; the rules live in charts.clinical_rules.
# ---------------------------------------------------------------------------------------------

ITEM_LABELS = {
    "code": _("Code"),
    "display": _("Description"),
    "code_system": _("Code system"),
    "instructions": _("Dose and instructions"),
    "stop_date": _("Stop date"),
    "resolved_on": _("Resolved on"),
    "lot_number": _("Lot number"),
    "end_date": _("End date"),
    "value": _("Value"),
    "reference_low": _("Reference range, low"),
    "reference_high": _("Reference range, high"),
    "reference_text": _("Reference range (in words)"),
    "flag": _("Abnormal flag"),
    "shared_with_patient": _("Share with patient"),
    "confidential_from_representatives": _("Confidential from representatives"),
}
CONFIDENTIAL_HELP = _(
    "Kept from the parents, guardians and caregivers who see the record on the patient's "
    "behalf (sexual health, mental health, substance use). The patient still sees it when "
    "shared."
)
ENCOUNTER_CONFIDENTIAL_HELP = _(
    "Kept from the parents, guardians and caregivers who see the record on the patient's "
    "behalf: the visit summary and every entry of this visit. The patient still sees what is "
    "shared."
)
DISPLAY_LABELS = {Medication: _("Medication"), Allergy: _("Substance"), CarePlan: _("Title")}
CODE_HELP = _("Type to search the list, or leave empty and describe it in words.")


class ItemForm(forms.ModelForm):
    """Add or edit one item of a clinical list; `encounters` are the chart's unsigned visits
    the item may be attached to."""

    encounter = forms.ChoiceField(label=_("Encounter"), required=False)

    def __init__(self, *args, encounters=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.encounters = {str(e.public_id): e for e in encounters}
        choices = [("", gettext("None"))] + [
            (key, gettext("Visit of %(date)s") % {"date": e.visit_date.strftime("%m/%d/%Y")})
            for key, e in self.encounters.items()
        ]
        self.fields["encounter"].choices = choices
        model = self._meta.model
        self.fields["recorded_on"].label = model.RECORDED_ON_LABEL
        if "display" in self.fields:
            self.fields["display"].label = DISPLAY_LABELS.get(model, _("Description"))
            self.fields["display"].required = "code" not in self.fields
        if "code" in self.fields:
            self.fields["code"].help_text = CODE_HELP
            system = model.CODE_SYSTEM
            self.fields["code"].widget.attrs.update(
                {
                    "list": "code-options",
                    "autocomplete": "off",
                    "data-code-search": reverse("charts:code_search", args=[system]),
                }
            )
            self.fields["code"].label = (
                gettext("%(system)s code") % {"system": CodeSystem(system).label}
                if "code_system" not in self.fields
                else gettext("Code")
            )
        if "flag" in self.fields:
            self.fields["flag"] = forms.ChoiceField(
                label=_("Abnormal flag"),
                required=False,
                choices=[("", gettext("Work it out from the range"))] + list(AbnormalFlag.choices),
            )
        if "code_system" in self.fields:
            self.fields["code_system"].required = False

    def _post_clean(self):
        pass

    def service_values(self) -> dict:
        """The cleaned values as the services take them (encounter as an object)."""
        values = dict(self.cleaned_data)
        key = values.pop("encounter", "")
        values["encounter"] = self.encounters.get(key)
        return values


def item_form_class(model) -> type[ItemForm]:
    fields = [*EDITABLE[model], "shared_with_patient", "confidential_from_representatives"]
    date_fields = [f for f in fields if isinstance(model._meta.get_field(f), dj_models.DateField)]
    return forms.modelform_factory(
        model,
        form=ItemForm,
        fields=fields,
        labels={k: v for k, v in ITEM_LABELS.items() if k in fields},
        help_texts={"confidential_from_representatives": CONFIDENTIAL_HELP},
        widgets={f: DateInput() for f in date_fields} | {"text": forms.Textarea(attrs={"rows": 4})},
    )


class EncounterForm(forms.ModelForm):
    class Meta:
        model = Encounter
        fields = ["visit_date", "note", "confidential_from_representatives"]
        labels = {
            "visit_date": _("Visit date"),
            "note": _("Note"),
            "confidential_from_representatives": _("Confidential from representatives"),
        }
        help_texts = {"confidential_from_representatives": ENCOUNTER_CONFIDENTIAL_HELP}
        widgets = {"visit_date": DateInput(), "note": forms.Textarea(attrs={"rows": 10})}

    def __init__(self, *args, with_confidential: bool = True, **kwargs):
        # Without the confidentiality box where the share form beside it carries it (a
        # provider's encounter page): one box for one choice on a page.
        super().__init__(*args, **kwargs)
        if not with_confidential:
            del self.fields["confidential_from_representatives"]

    def _post_clean(self):
        pass


class AmendmentForm(forms.Form):
    text = forms.CharField(
        label=_("Amendment"), max_length=10_000, widget=forms.Textarea(attrs={"rows": 4})
    )


class EncounterShareForm(forms.Form):
    """The provider's choice of what of a visit the patient sees: the note, and each item
    attached to it (one check box an item, named item-<public id>); and what of it is kept
    from the patient's representatives: the whole visit, or single items (one check box an
    item, named confidential-<public id>)."""

    note_shared_with_patient = forms.BooleanField(
        label=_("Share the visit note (and its amendments) with the patient"), required=False
    )
    confidential_from_representatives = forms.BooleanField(
        label=_("Confidential from representatives: the whole visit"),
        help_text=ENCOUNTER_CONFIDENTIAL_HELP,
        required=False,
    )

    def __init__(self, *args, items=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.items = list(items)
        for item in self.items:
            label = str(item_label(item))
            self.fields[f"item-{item.public_id}"] = forms.BooleanField(
                label=label, required=False, initial=item.shared_with_patient
            )
            self.fields[f"confidential-{item.public_id}"] = forms.BooleanField(
                label=gettext("%(item)s: confidential from representatives") % {"item": label},
                required=False,
                initial=item.confidential_from_representatives,
            )

    def item_rows(self):
        """(item, its share box, its confidentiality box) for each attached item."""
        return [
            (item, self[f"item-{item.public_id}"], self[f"confidential-{item.public_id}"])
            for item in self.items
        ]


def item_label(item) -> str:
    """A readable one-line name of an item (for check boxes and messages)."""
    if hasattr(item, "display"):
        return item.display
    if hasattr(item, "kind") and hasattr(item, "unit_display"):
        return f"{item.get_kind_display()}: {item.value.normalize():f} {item.unit_display}"
    return getattr(item, "title", str(item))
