"""Forms of the appointment book's staff pages.

They only parse what was typed; the rules (which provider, which visit type, whether a time is
free, what is too long) are the services' (scheduling.services), whose errors are shown next
to these fields, so pages and the API give the same messages. Choices of providers, visit
types and locations are passed on as typed: the view looks them up in the current practice
and the service refuses what is not one of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django import forms
from django.utils.translation import gettext_lazy as _

from portico.core.forms import DateInput, TelInput
from portico.scheduling.models import Weekday

# The "Whole practice" choice of a blocked time's provider.
WHOLE_PRACTICE = ""
# The "Practice address" choice of a working-hours stretch's location.
PRACTICE_ADDRESS = ""
# Stretches a weekday may have on the hours page (a morning and an afternoon).
STRETCHES_PER_DAY = 2


class TimeInput(forms.TimeInput):
    """The platform's time picker; it submits 24-hour times (09:40)."""

    input_type = "time"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%H:%M")


class _PageForm(forms.Form):
    """A form of a page that shows several: each has ids of its own."""

    id_prefix = ""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", f"{self.id_prefix}-%s")
        super().__init__(*args, **kwargs)


def member_choices(memberships) -> list[tuple[str, str]]:
    """(user public id, name) of each provider."""
    return [(str(m.user.public_id), m.user.display_name) for m in memberships]


def visit_type_choices(visit_types) -> list[tuple[str, str]]:
    return [
        (
            str(v.public_id),
            _("%(name)s (%(minutes)d min)") % {"name": v.name, "minutes": v.duration_minutes},
        )
        for v in visit_types
    ]


# --- Booking ------------------------------------------------------------------------------


class BookFindForm(_PageForm):
    """The booking page's GET form: whom to book, with whom, for what, from which day. Never
    required: what is not chosen shows nothing yet."""

    id_prefix = "find"
    q = forms.CharField(
        label=_("Find a patient by name or date of birth"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Name, or 04/21/1980")}),
    )
    provider = forms.CharField(label=_("Provider"), required=False, widget=forms.Select)
    visit_type = forms.CharField(label=_("Visit type"), required=False, widget=forms.Select)
    date = forms.DateField(label=_("From"), required=False, widget=DateInput)

    def __init__(self, *args, providers=(), visit_types=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["provider"].widget.choices = [("", _("Choose a provider"))] + member_choices(
            providers
        )
        self.fields["visit_type"].widget.choices = [
            ("", _("Choose a visit type"))
        ] + visit_type_choices(visit_types)


class BookForm(_PageForm):
    """The booking itself: the chart, the provider, the visit type, one of the open times and
    the reason. Patient and time are chosen with radio buttons the template writes."""

    id_prefix = "book"
    patient = forms.CharField(
        label=_("Patient"), required=False, widget=forms.HiddenInput, max_length=64
    )
    provider = forms.CharField(label=_("Provider"), required=False, widget=forms.HiddenInput)
    visit_type = forms.CharField(label=_("Visit type"), required=False, widget=forms.HiddenInput)
    date = forms.DateField(required=False, widget=forms.HiddenInput)
    start_at = forms.CharField(label=_("Time"), required=False, widget=forms.HiddenInput)
    reason = forms.CharField(
        label=_("Reason for visit"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


# --- One appointment ----------------------------------------------------------------------


class MoveForm(_PageForm):
    """Move: a new date and time (or one of the open times, sent by its own button), and
    optionally another provider or visit type."""

    id_prefix = "move"
    provider = forms.CharField(label=_("Provider"), required=False, widget=forms.Select)
    visit_type = forms.CharField(label=_("Visit type"), required=False, widget=forms.Select)
    date = forms.DateField(label=_("Date"), required=False, widget=DateInput)
    time = forms.TimeField(label=_("Time"), required=False, widget=TimeInput)

    def __init__(self, *args, providers=(), visit_types=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["provider"].widget.choices = member_choices(providers)
        self.fields["visit_type"].widget.choices = visit_type_choices(visit_types)


class CancelForm(_PageForm):
    id_prefix = "cancel"
    # Required by the service, which gives the message.
    reason = forms.CharField(
        label=_("Reason for cancelling"),
        required=False,
        help_text=_("Kept for the practice; the patient's email does not say it."),
        widget=forms.Textarea(attrs={"rows": 2}),
    )


# --- Schedule settings --------------------------------------------------------------------


class VisitTypeForm(forms.Form):
    name = forms.CharField(label=_("Name"), required=False, max_length=200)
    duration_minutes = forms.IntegerField(
        label=_("Length in minutes"),
        required=False,
        widget=forms.NumberInput(attrs={"min": 5, "max": 480, "step": 5}),
    )
    is_active = forms.BooleanField(
        label=_("Offered for booking"),
        required=False,
        help_text=_("Untick to retire the visit type: booked appointments keep it."),
    )


class LocationForm(forms.Form):
    name = forms.CharField(label=_("Name"), required=False, max_length=200)
    address_line1 = forms.CharField(label=_("Address"), required=False, max_length=300)
    address_line2 = forms.CharField(label=_("Address line 2"), required=False, max_length=300)
    city = forms.CharField(label=_("City"), required=False, max_length=200)
    state = forms.CharField(label=_("State"), required=False, max_length=100)
    postal_code = forms.CharField(label=_("ZIP code"), required=False, max_length=40)
    phone = forms.CharField(label=_("Phone"), required=False, max_length=40, widget=TelInput)
    is_active = forms.BooleanField(
        label=_("In use"),
        required=False,
        help_text=_("Untick to retire the location: nothing booked there changes."),
    )


class BlockedTimeForm(_PageForm):
    """A blocked time: whose (a provider, or the whole practice), from and until when in the
    practice's time zone, and a label."""

    id_prefix = "blocked"
    provider = forms.CharField(label=_("For"), required=False, widget=forms.Select)
    start_date = forms.DateField(label=_("From (date)"), widget=DateInput)
    start_time = forms.TimeField(label=_("From (time)"), widget=TimeInput)
    end_date = forms.DateField(label=_("Until (date)"), widget=DateInput)
    end_time = forms.TimeField(label=_("Until (time)"), widget=TimeInput)
    label = forms.CharField(
        label=_("Label"),
        required=False,
        max_length=400,
        help_text=_("For example “Staff meeting” or “Holiday”."),
    )

    def __init__(self, *args, providers=(), whole_practice: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(WHOLE_PRACTICE, _("Whole practice"))] if whole_practice else []
        self.fields["provider"].widget.choices = choices + member_choices(providers)


@dataclass
class HoursRow:
    """One stretch of a weekday on the hours page, with the errors the service gave for it."""

    weekday: int
    n: int  # 0, 1, …
    where: str  # "Monday, hours 1": what a screen reader says beside each field's label
    start: forms.BoundField
    end: forms.BoundField
    location: forms.BoundField
    errors: list[str] = field(default_factory=list)

    @property
    def error_id(self) -> str:
        return f"hours-{self.weekday}-{self.n}-error"

    @property
    def fields(self) -> list[forms.BoundField]:
        return [self.start, self.end, self.location]


class HoursForm(forms.Form):
    """A provider's regular week: per weekday `per_day` stretches (at least two: a morning and
    an afternoon), each a start, an end and a location. Fields are named
    `<weekday>-<n>-start|end|location`; `days()` lists them per weekday and stretch with the
    stretch's own errors (the service's `stretches.N` errors, placed by the view)."""

    def __init__(self, *args, locations=(), per_day: dict[int, int] | None = None, **kwargs):
        kwargs.setdefault("auto_id", "hours-%s")
        super().__init__(*args, **kwargs)
        location_choices = [(PRACTICE_ADDRESS, _("Practice address"))] + [
            (str(location.public_id), location.name) for location in locations
        ]
        self.row_errors: dict[tuple[int, int], list[str]] = {}
        self.per_day = {
            day.value: max(STRETCHES_PER_DAY, (per_day or {}).get(day.value, 0)) for day in Weekday
        }
        for weekday, count in self.per_day.items():
            for n in range(count):
                key = f"{weekday}-{n}"
                self.fields[f"{key}-start"] = forms.TimeField(
                    label=_("Start"), required=False, widget=TimeInput
                )
                self.fields[f"{key}-end"] = forms.TimeField(
                    label=_("End"), required=False, widget=TimeInput
                )
                location = forms.CharField(label=_("Location"), required=False, widget=forms.Select)
                location.widget.choices = location_choices
                self.fields[f"{key}-location"] = location

    def days(self) -> list[tuple[str, list[HoursRow]]]:
        """Per weekday, Monday first: (its name, its stretches)."""
        found = []
        for weekday in Weekday:
            rows = []
            for n in range(self.per_day[weekday.value]):
                key = f"{weekday.value}-{n}"
                rows.append(
                    HoursRow(
                        weekday=weekday.value,
                        n=n,
                        where=_("%(day)s, hours %(n)d") % {"day": weekday.label, "n": n + 1},
                        start=self[f"{key}-start"],
                        end=self[f"{key}-end"],
                        location=self[f"{key}-location"],
                        errors=self.row_errors.get((weekday.value, n), []),
                    )
                )
            found.append((str(weekday.label), rows))
        return found

    def add_row_error(self, weekday: int, n: int, message: str) -> None:
        """A message for one stretch, shown beside its row and tied to its three fields."""
        self.row_errors.setdefault((weekday, n), []).append(message)
        for part in ("start", "end", "location"):
            attrs = self.fields[f"{weekday}-{n}-{part}"].widget.attrs
            attrs["aria-describedby"] = f"hours-{weekday}-{n}-error"
            attrs["aria-invalid"] = "true"
