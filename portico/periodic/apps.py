from django.apps import AppConfig


class PeriodicConfig(AppConfig):
    """Work nobody triggers by a click, run by `portico run_periodic` (see jobs.py)."""

    name = "portico.periodic"
    label = "periodic"
