"""`portico check` tells the operator when the translations were not compiled."""

import os

from portico.core.checks import compiled_catalogues_check


def _catalogue(folder):
    messages = folder / "es" / "LC_MESSAGES"
    messages.mkdir(parents=True)
    po = messages / "django.po"
    po.write_text('msgid ""\nmsgstr ""\n')
    return po


def test_uncompiled_catalogue_is_reported(settings, tmp_path):
    settings.LOCALE_PATHS = [tmp_path]
    po = _catalogue(tmp_path)

    (warning,) = compiled_catalogues_check(None)
    assert warning.id == "portico.W002"
    assert str(po) in warning.msg


def test_catalogue_older_than_its_source_is_reported_and_a_fresh_one_is_not(settings, tmp_path):
    settings.LOCALE_PATHS = [tmp_path]
    po = _catalogue(tmp_path)
    mo = po.with_suffix(".mo")
    mo.write_bytes(b"")
    os.utime(mo, (po.stat().st_mtime - 10, po.stat().st_mtime - 10))
    assert [w.id for w in compiled_catalogues_check(None)] == ["portico.W002"]

    os.utime(mo, (po.stat().st_mtime + 10, po.stat().st_mtime + 10))
    assert compiled_catalogues_check(None) == []


def test_the_shipped_catalogue_is_compiled():
    assert compiled_catalogues_check(None) == []
