"""`portico check` warnings about the installation itself."""

from pathlib import Path

from django.conf import settings
from django.core.checks import Warning, register


@register()
def compiled_catalogues_check(app_configs, **kwargs):
    """A language whose catalogue is not compiled (or older than its .po) shows English."""
    stale = []
    for locale_dir in map(Path, settings.LOCALE_PATHS):
        for po in sorted(locale_dir.glob("*/LC_MESSAGES/*.po")):
            mo = po.with_suffix(".mo")
            if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
                stale.append(str(po))
    if not stale:
        return []
    return [
        Warning(
            "Translations are not compiled, so their pages show English: " + ", ".join(stale),
            hint="Run `make portico/locale/es/LC_MESSAGES/django.mo` (or `pybabel compile "
            "--domain django --directory portico/locale`) before installing or starting Portico.",
            id="portico.W002",
        )
    ]
