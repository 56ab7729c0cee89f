"""The public pages (SPEC §8.3-8.4)."""

from __future__ import annotations

from django.http import HttpResponse


def search(request, **kwargs):  # placeholder until the page lands
    return HttpResponse("not yet", status=501)


def profile(request, **kwargs):  # placeholder until the page lands
    return HttpResponse("not yet", status=501)


def book(request, **kwargs):  # placeholder until the page lands
    return HttpResponse("not yet", status=501)


def embed(request, **kwargs):  # placeholder until the page lands
    return HttpResponse("not yet", status=501)


def sitemap(request, **kwargs):  # placeholder until the page lands
    return HttpResponse("not yet", status=501)


def robots(request, **kwargs):  # placeholder until the page lands
    return HttpResponse("not yet", status=501)
