"""PLACEHOLDER: replaced by the helper that builds these pages."""

from django.http import Http404


def timeline(request, **kwargs):
    raise Http404
