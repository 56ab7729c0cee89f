"""The chart's vocabulary (statuses, severities, lab flags, vital signs, section titles) is
translated, since the patient's record shows it; the stored values and the schema do not
change with the language."""

import pytest
from django.core.management import call_command
from django.utils import translation

from portico.charts import models as charts
from portico.charts.selectors import SECTION_TITLES
from portico.scheduling.models import AppointmentStatus

# Words that are the same in both languages.
SAME_IN_SPANISH = {"Normal"}

VOCABULARY = (
    charts.Sex,
    charts.ProblemStatus,
    charts.MedicationStatus,
    charts.AllergySeverity,
    charts.VitalKind,
    charts.AbnormalFlag,
    charts.AssessmentKind,
    AppointmentStatus,
)


@pytest.mark.parametrize("choices", VOCABULARY, ids=lambda c: c.__name__)
def test_every_label_the_record_shows_has_spanish(choices):
    english = {value: str(label) for value, label in choices.choices}
    with translation.override("es"):
        spanish = {value: str(label) for value, label in choices.choices}
    for value, word in english.items():
        assert word in SAME_IN_SPANISH or spanish[value] != word, (choices.__name__, value)
    assert list(spanish) == [choice.value for choice in choices]  # values never translated


def test_lab_flags_and_readable_units_in_spanish():
    with translation.override("es"):
        assert [str(charts.AbnormalFlag(f).label) for f in "HLA"] == ["Alto", "Bajo", "Anormal"]
        vital = charts.Vital(kind=charts.VitalKind.HEART_RATE, unit="/min")
        assert vital.unit_display == "latidos/min"
        assert vital.get_kind_display() == "Frecuencia cardíaca"
        assert str(SECTION_TITLES["labs"]) == "Resultados de laboratorio"
    assert charts.Vital(kind=charts.VitalKind.HEART_RATE).unit_display == "beats/min"


@pytest.mark.django_db
def test_translated_labels_need_no_migration():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)
