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

`cached_page` keeps the page around such a fragment too (the layout, navigation, the patient's
details), keyed by a digest of every row the page shows, so that any change to one of them is
a new key. The parts that are not the same on every view are left as holes in the cached page
and filled on each request: the CSRF token, and the fragments, which keep their own rules.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import math
import operator
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.core.cache import caches
from django.db.models import Model
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
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


# Marks a hole in a cached page. Derived from the secret key, so every process sharing a cache
# agrees on it and page content cannot guess it.
_HOLE = "h" + hashlib.sha256(("portico-page-hole" + settings.SECRET_KEY).encode()).hexdigest()[:20]


@functools.cache
def _columns_reader(model) -> operator.attrgetter:
    """Reads a model instance's columns as one tuple (the primary key twice: never one name)."""
    names = [model._meta.pk.attname] + [f.attname for f in model._meta.concrete_fields]
    return operator.attrgetter(*names)


def _state(value) -> object:
    """What a page shows of `value`: every column of a model instance, else the value."""
    if isinstance(value, Model):
        return (value._meta.label, _columns_reader(type(value))(value))
    if isinstance(value, list | tuple):
        return tuple(_state(item) for item in value)
    return value


def cached_page(
    request, kind: str, template_name: str, context: dict, *, depends_on, holes: dict
) -> HttpResponse:
    """render(request, template_name, {**context, **holes}), from the records cache when
    nothing in `depends_on` changed.

    `depends_on` must list everything the page shows from the database besides the holes
    (model instances count by every column); the signed-in account, the path and the session's
    idle limit are added here. `holes` are rendered fragments (SafeStrings) put in on every
    request, as is the CSRF token. A request with messages to show is rendered afresh.
    """
    lifetime = settings.PORTICO_RECORD_CACHE_SECONDS
    if lifetime <= 0 or len(messages.get_messages(request)):
        return render(request, template_name, {**context, **holes})
    state = (
        _state(request.user),
        request.get_full_path(),
        getattr(request, "session_idle_seconds", None),
        timezone.get_current_timezone_name(),
        _state(list(depends_on)),
    )
    digest = hashlib.sha256(repr(state).encode()).hexdigest()
    key = f"page:{kind}:{TEMPLATES_DIGEST}:{digest}"
    cache = caches["records"]
    html = cache.get(key)
    if html is None:
        marked = {name: mark_safe(f"{_HOLE}:{name}:") for name in holes}  # noqa: S308
        marked["csrf_token"] = f"{_HOLE}:csrf_token:"
        html = render_to_string(template_name, {**context, **marked}, request)
        cache.set(key, html, lifetime)
    filled = {**holes, "csrf_token": get_token(request)}
    parts = html.split(_HOLE + ":")
    out = [parts[0]]
    for part in parts[1:]:
        name, _colon, rest = part.partition(":")
        out.append(filled[name])
        out.append(rest)
    return HttpResponse("".join(out))
