"""The forms of the online-profile settings (SPEC §8.1–8.2, §8.4). They read what the page
sends; the services decide what is allowed and say what is wrong."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from portico.booking.vocabulary import Specialty, SpokenLanguage


class FirstBox(forms.CheckboxSelectMultiple):
    """Check boxes whose field points at the first box (the error summary links to it)."""

    def id_for_label(self, id_, index=None):
        return super().id_for_label(id_, "0" if index is None else index)


def _boxes(label, choices=()) -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(
        label=label,
        choices=choices,
        required=False,
        widget=FirstBox,
        error_messages={"invalid_choice": _("Choose from the listed values.")},
    )


class ProfileForm(forms.Form):
    """The "Online profile and appointment booking" section of a provider (SPEC §8.1)."""

    specialties = _boxes(_("Specialties"), Specialty.choices)
    languages = _boxes(_("Languages spoken"), SpokenLanguage.choices)
    locations = _boxes(_("Locations where you see patients"))
    online_visit_types = _boxes(_("Visit types offered online"))
    insurance_accepted = forms.CharField(
        label=_("Insurance accepted"),
        required=False,
        max_length=2000,
        help_text=_("One plan per line, such as “Aetna” or “Medicare”."),
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    biography = forms.CharField(
        label=_("Short biography"),
        required=False,
        max_length=2000,
        help_text=_("What patients read about you on the profile: up to 2,000 characters."),
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    accepts_new_patients = forms.BooleanField(label=_("Accepts new patients"), required=False)
    npi = forms.CharField(
        label=_("NPI"),
        required=False,
        max_length=20,
        help_text=_(
            "The National Provider Identifier: 10 digits. An administrator attests it again "
            "whenever it changes."
        ),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )

    def __init__(self, *args, locations=(), visit_types=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.location_choices = {str(loc.public_id): loc for loc in locations}
        self.visit_type_choices = {str(v.public_id): v for v in visit_types}
        self.fields["locations"].choices = [
            (key, loc.name) for key, loc in self.location_choices.items()
        ]
        self.fields["online_visit_types"].choices = [
            (key, _visit_type_label(v)) for key, v in self.visit_type_choices.items()
        ]

    def chosen_locations(self) -> list:
        return [self.location_choices[key] for key in self.cleaned_data["locations"]]

    def chosen_visit_types(self) -> list:
        return [self.visit_type_choices[key] for key in self.cleaned_data["online_visit_types"]]


def _visit_type_label(visit_type) -> str:
    return gettext("%(name)s (%(minutes)d min)") % {
        "name": visit_type.name,
        "minutes": visit_type.duration_minutes,
    }


class EmbedOriginsForm(forms.Form):
    """EHR Settings > Online booking on your website: the websites that may frame the booking
    pages (SPEC §8.4)."""

    origins = forms.CharField(
        label=_("Websites allowed to show the booking pages"),
        required=False,
        max_length=5000,
        strip=False,
        help_text=_(
            "One origin per line: https:// and the host name, without a path, such as "
            "https://www.example.org. http://localhost is allowed for testing."
        ),
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false", "autocomplete": "off"}),
    )
