"""Schedule > Appointment Requests (SPEC §8.5)."""

from __future__ import annotations

from django.http import HttpResponse


def request_list(request, **kwargs):  # placeholder until the page lands
    return HttpResponse("not yet", status=501)


def request_detail(request, **kwargs):  # placeholder until the page lands
    return HttpResponse("not yet", status=501)


def request_approve(request, **kwargs):  # placeholder until the page lands
    return HttpResponse("not yet", status=501)


def request_deny(request, **kwargs):  # placeholder until the page lands
    return HttpResponse("not yet", status=501)


def request_propose(request, **kwargs):  # placeholder until the page lands
    return HttpResponse("not yet", status=501)


def appointment_confirm(request, **kwargs):  # placeholder until the page lands
    return HttpResponse("not yet", status=501)
