"""The portal's Appointments tab (SPEC §8.6)."""

from __future__ import annotations

from django.http import HttpResponse


def appointments(request, **kwargs):  # placeholder until the page lands
    return HttpResponse("not yet", status=501)


def reschedule(request, **kwargs):  # placeholder until the page lands
    return HttpResponse("not yet", status=501)


def cancel(request, **kwargs):  # placeholder until the page lands
    return HttpResponse("not yet", status=501)


def accept(request, **kwargs):  # placeholder until the page lands
    return HttpResponse("not yet", status=501)


def withdraw(request, **kwargs):  # placeholder until the page lands
    return HttpResponse("not yet", status=501)
