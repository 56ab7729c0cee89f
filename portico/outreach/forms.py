from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from portico.core.forms import DateInput
from portico.outreach.selectors import BulkFilter


class BulkFilterForm(forms.Form):
    """The filters of the bulk invite page (a GET form: the list is shareable and reloadable)."""

    # Present in every submitted form, so unticked boxes can be told from a first visit.
    filtered = forms.CharField(widget=forms.HiddenInput, required=False, initial="1")
    not_invited = forms.BooleanField(label=_("Not invited to the portal"), required=False)
    has_email = forms.BooleanField(label=_("Has an email address"), required=False)
    age_min = forms.IntegerField(
        label=_("Age from"), required=False, min_value=0, max_value=130, help_text=_("Years.")
    )
    age_max = forms.IntegerField(
        label=_("Age to"),
        required=False,
        min_value=0,
        max_value=130,
        help_text=_("Years, inclusive."),
    )
    seen_since = forms.DateField(
        label=_("Seen since"),
        required=False,
        widget=DateInput(),
        help_text=_("Only charts with an encounter on or after this date."),
        input_formats=["%Y-%m-%d", "%m/%d/%Y"],
    )

    def __init__(self, data=None, *, today=None, **kwargs):
        if data is not None and "filtered" not in data:
            data = None  # a first visit: the defaults below
        super().__init__(data, initial={"not_invited": True, "has_email": True}, **kwargs)
        self.today = today

    def clean_seen_since(self):
        seen = self.cleaned_data.get("seen_since")
        if seen is not None and self.today is not None and seen > self.today:
            raise forms.ValidationError(gettext("Choose a date that is not in the future."))
        return seen

    def clean(self):
        data = super().clean()
        low, high = data.get("age_min"), data.get("age_max")
        if low is not None and high is not None and low > high:
            self.add_error("age_max", gettext("The upper age must not be below the lower age."))
        return data

    def criteria(self) -> BulkFilter:
        """The filters chosen (the defaults on a first visit); call after is_valid()."""
        if not self.is_bound:
            return BulkFilter()
        data = self.cleaned_data
        return BulkFilter(
            not_invited=data["not_invited"],
            has_email=data["has_email"],
            age_min=data["age_min"],
            age_max=data["age_max"],
            seen_since=data["seen_since"],
        )
