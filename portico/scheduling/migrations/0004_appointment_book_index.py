"""The day and week views read the practice's providers' appointments in a time window
(selectors.schedule: practice, providers, start_at). The (provider, start_at) index serves the
overlap checks and open times, which look at a provider's time at every practice; for the
book's query both databases preferred the practice key's own index and read the practice's
whole history (bench/scheduling.py: a full week of 20 providers, 11 ms on PostgreSQL and 22 ms
on SQLite, growing with the years kept; with this index 2 ms and 3 ms)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0003_no_overlap_on_postgresql")]

    operations = [
        migrations.AddIndex(
            model_name="appointment",
            index=models.Index(
                fields=["practice", "provider", "start_at"], name="appointment_book_idx"
            ),
        ),
    ]
