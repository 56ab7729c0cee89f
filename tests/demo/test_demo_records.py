"""The bulk generator the record benchmarks fill their database with."""

import pytest

from portico.charts.models import CLINICAL_LISTS, LabResult, Patient
from portico.demo.records import bulk_generate

pytestmark = pytest.mark.django_db


def test_bulk_generate_spreads_items_over_every_list(practice):
    seen = []
    made = bulk_generate(
        practice,
        patients=5,
        items_per_patient=50,
        batch_size=100,
        progress=lambda p, i: seen.append((p, i)),
    )
    assert made == (5, 250)
    assert seen[-1] == (5, 250)
    assert Patient.objects.filter(practice=practice).count() == 5
    assert sum(m.objects.count() for m in CLINICAL_LISTS.values()) == 250
    assert all(m.objects.exists() for m in CLINICAL_LISTS.values())
    assert LabResult.objects.exclude(flag="N").exists()
    assert (
        LabResult.objects.shared().exists()
        and LabResult.objects.exclude(shared_with_patient=True).exists()
    )


def test_bulk_generate_is_deterministic(practice, other_practice):
    bulk_generate(practice, patients=2, items_per_patient=20, seed=9)
    first = list(LabResult.objects.order_by("id").values_list("code", "value"))
    Patient.objects.all().delete()  # same seed, same public ids
    bulk_generate(other_practice, patients=2, items_per_patient=20, seed=9)
    assert list(LabResult.objects.order_by("id").values_list("code", "value")) == first
