"""A chart's Appointments tab (placeholder until built)."""

from django.http import Http404


def appointments(request, **kwargs):
    raise Http404("not built yet")
