"""The one cache seam of record pages: renderings kept per chart and record version.

The expensive part of a record page — the patient's shared sections, the staff chart summary —
is rendered once per chart and **record version** and then served from the "records" cache.
The record version is a counter on the chart. Every service that changes what those renderings
show calls `record_changed(patient)` in its own transaction (`tests/charts/
test_record_version.py` walks every model that points at a chart and fails unless its writes
raise the version or it is listed there as exempt, with the reason). A change therefore makes
every cached copy unreachable at once, in every process, without deleting anything.

A key holds:

* the kind of rendering, so the patient's and the staff's renderings can never be mixed up;
* the chart's public id (never reused, unlike a row id) and its record version;
* the time zone and language the rendering was written in;
* `TEMPLATES_DIGEST`, a digest of every template's source and of the compiled translation
  catalogues taken when the process starts, so a deploy that changes a template or a translation
  never serves a rendering made by the old one (the cache may be a shared Redis that outlives
  the deploy).

Entries live `PORTICO_RECORD_CACHE_SECONDS` (default 600; 0 turns caching off). That also
bounds how long a change outside the chart takes to show (a staff member's display name, which
the renderings show beside encounters), and less when the rendering says when it stops being
true by itself (an appointment ending moves it from "upcoming" to "past").

Renderings are made without the request: they hold no CSRF token or anything else that belongs
to one person's session, only what every viewer of that page kind may see. Only this fragment
is cached; the page around it is rendered on every request.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import zoneinfo
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.core.cache import caches
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.safestring import SafeString, mark_safe

from portico.charts.models import Patient

PORTICO_DIR = Path(__file__).resolve().parents[1]


def _templates_digest() -> str:
    digest = hashlib.sha256()
    paths = [*PORTICO_DIR.glob("**/templates/**/*.html"), *PORTICO_DIR.glob("**/jinja2/**/*.html")]
    for path in sorted(paths):
        digest.update(str(path.relative_to(PORTICO_DIR)).encode())
        digest.update(path.read_bytes())
    for locale_dir in map(Path, settings.LOCALE_PATHS):
        for path in sorted(locale_dir.glob("*/LC_MESSAGES/*.mo")):
            digest.update(str(path.relative_to(locale_dir)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


TEMPLATES_DIGEST = _templates_digest()


def record_changed(patient_id: int) -> None:
    """Mark the chart's record as changed: cached renderings of it are stale from the commit of
    the caller's transaction on. Services call it for every change a rendering may show."""
    Patient.objects.filter(pk=patient_id).update(record_version=F("record_version") + 1)


def chart_rendering(
    kind: str,
    patient: Patient,
    time_zone: str,
    template_name: str,
    context: dict,
    *,
    true_until: Callable[[], dt.datetime | None] | None = None,
) -> SafeString:
    """The rendering of `template_name` (a Jinja2 template) for this chart, in `time_zone`,
    from the cache when it is current.

    `context` is only rendered on a miss, so it may hold lazy reads. `true_until()` is called
    after a render and returns when that rendering stops being true by itself (or None).
    """
    lifetime = settings.PORTICO_RECORD_CACHE_SECONDS
    if lifetime <= 0:
        return _render(template_name, context, time_zone)
    cache = caches["records"]
    key = ":".join(
        (
            "chart",
            kind,
            TEMPLATES_DIGEST,
            str(patient.public_id),
            str(patient.record_version),
            time_zone,
            translation.get_language() or "",
        )
    )
    html = cache.get(key)
    if html is None:
        html = _render(template_name, context, time_zone)
        seconds = lifetime
        ends = true_until() if true_until is not None else None
        if ends is not None:
            seconds = min(seconds, _seconds_until(ends))
        if seconds > 0:
            cache.set(key, html, seconds)
    return mark_safe(html)  # noqa: S308 (rendered by our own template, autoescaped)


def _render(template_name: str, context: dict, time_zone: str) -> SafeString:
    """A Jinja2 template (an app's jinja2/ folder), its dates and times in `time_zone`."""
    with timezone.override(zoneinfo.ZoneInfo(time_zone)):
        html = render_to_string(template_name, context, using="jinja2")
    return mark_safe(html)  # noqa: S308 (rendered by our own template, autoescaped)


def _seconds_until(moment: dt.datetime) -> int:
    return max(0, math.floor((moment - timezone.now()).total_seconds()))
