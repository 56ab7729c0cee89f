"""Cached renderings of the expensive part of record pages.

The patient's shared sections and the staff chart summary are rendered once per chart and
record version (charts/record_version.py) and then served from the "records" cache until the
chart changes. A key holds:

* the kind of rendering, so the patient's and the staff's renderings can never be mixed up;
* the chart's public id (never reused, unlike a row id) and its record version;
* the time zone the dates were written in;
* `TEMPLATES_DIGEST`, a digest of every template's source taken when the process starts, so a
  deploy that changes a template never serves a rendering made by the old one (the cache may be
  a shared Redis that outlives the deploy).

Entries live `PORTICO_RECORD_CACHE_SECONDS` (default 600; 0 turns caching off), which also
bounds how long a change outside the clinical record (a provider's display name) takes to
show, or less when the rendering says when it stops being true (an appointment ending moves it
from "upcoming" to "past").

Fragments are rendered without the request: they hold no CSRF token or anything else that
belongs to one person's session, only what every viewer of that page kind may see.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from pathlib import Path

from django.conf import settings
from django.core.cache import caches
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

PORTICO_DIR = Path(__file__).resolve().parents[1]


def _templates_digest() -> str:
    digest = hashlib.sha256()
    for path in sorted(PORTICO_DIR.glob("**/templates/**/*.html")):
        digest.update(str(path.relative_to(PORTICO_DIR)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


TEMPLATES_DIGEST = _templates_digest()


def chart_rendering(
    kind: str,
    patient,
    time_zone: str,
    template_name: str,
    context: dict,
    *,
    true_until=None,
) -> SafeString:
    """The rendering of `template_name` for this chart, from the cache when it is current.

    `context` is only rendered on a miss, so it may hold lazy reads. `true_until(...)` is
    called after a render and returns when that rendering stops being true by itself (or
    None).
    """
    lifetime = settings.PORTICO_RECORD_CACHE_SECONDS
    if lifetime <= 0:
        return mark_safe(render_to_string(template_name, context))  # noqa: S308 (our template)
    cache = caches["records"]
    key = ":".join(
        ("chart", kind, TEMPLATES_DIGEST, str(patient.public_id), str(patient.record_version),
         time_zone)
    )  # fmt: skip
    html = cache.get(key)
    if html is None:
        html = render_to_string(template_name, context)
        seconds = lifetime
        ends = true_until() if true_until is not None else None
        if ends is not None:
            seconds = min(seconds, _seconds_until(ends))
        if seconds > 0:
            cache.set(key, html, seconds)
    return mark_safe(html)  # noqa: S308 (rendered by our own template, autoescaped)


def _seconds_until(moment: dt.datetime) -> int:
    return max(0, math.floor((moment - timezone.now()).total_seconds()))
