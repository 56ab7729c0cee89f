"""The renderings' `choice_label(obj, field)` says what `obj.get_<field>_display()` says, in
the active language, for every choice (it only translates the labels once per language)."""

import pytest
from django.utils import translation

from portico.charts.models import Allergy, LabResult
from portico.core.jinja import choice_label


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize(("model", "field"), [(Allergy, "severity"), (LabResult, "flag")])
def test_choice_label_is_the_field_display_in_the_active_language(model, field, language):
    with translation.override(language):
        for value, _label in model._meta.get_field(field).flatchoices:
            item = model(**{field: value})
            assert choice_label(item, field) == getattr(item, f"get_{field}_display")()


def test_a_value_that_is_not_a_choice_shows_as_it_is():
    assert choice_label(Allergy(severity="odd"), "severity") == "odd"
