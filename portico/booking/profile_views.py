"""Online profile settings (SPEC §8.1-8.2)."""

from __future__ import annotations

from django.http import HttpResponse


def profile_settings(request, **kwargs):  # placeholder until the page lands
    return HttpResponse("not yet", status=501)


def profile_status(request, **kwargs):  # placeholder until the page lands
    return HttpResponse("not yet", status=501)


def npi_attest(request, **kwargs):  # placeholder until the page lands
    return HttpResponse("not yet", status=501)


def website_settings(request, **kwargs):  # placeholder until the page lands
    return HttpResponse("not yet", status=501)
