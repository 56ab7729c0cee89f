"""The languages Portico speaks (settings.LANGUAGES): the one check every app uses."""

from django.conf import settings


def spoken(code: str | None) -> str:
    """`code` when Portico speaks it (settings.LANGUAGES), else ""."""
    return code if code and code in {known for known, _name in settings.LANGUAGES} else ""
