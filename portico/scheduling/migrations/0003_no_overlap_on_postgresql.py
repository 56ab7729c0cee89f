"""No two appointments of one provider that hold their time may overlap (SPEC §8.8).

On PostgreSQL an exclusion constraint over the provider and the time range refuses the second
row, whatever wrote it (btree_gist lets the provider's equality share the GiST index with the
range). SQLite has no such constraint: there the booking services check inside a write
transaction that SQLite serialises (scheduling.services._refuse_overlap), so this migration
does nothing on it.
"""

from django.db import migrations, models

CONSTRAINT = "appointment_no_overlap"


def _constraint():
    from django.contrib.postgres.constraints import ExclusionConstraint
    from django.contrib.postgres.fields import DateTimeRangeField, RangeOperators
    from django.db.models import Func, Value

    class TsTzRange(Func):
        function = "TSTZRANGE"
        output_field = DateTimeRangeField()

    return ExclusionConstraint(
        name=CONSTRAINT,
        expressions=[
            ("provider", RangeOperators.EQUAL),
            # '[)': appointments that only touch (9:00–9:20, 9:20–9:40) do not overlap.
            (TsTzRange("start_at", "end_at", Value("[)")), RangeOperators.OVERLAPS),
        ],
        condition=~models.Q(status="cancelled"),
    )


def add(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    schema_editor.add_constraint(apps.get_model("scheduling", "Appointment"), _constraint())


def remove(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.remove_constraint(apps.get_model("scheduling", "Appointment"), _constraint())


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0002_appointment_book")]

    operations = [migrations.RunPython(add, remove)]
