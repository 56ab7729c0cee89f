"""PLACEHOLDER: replaced by the helper that builds these pages."""

from django.http import Http404


def thread_list(request, **kwargs):
    raise Http404


def thread_new(request, **kwargs):
    raise Http404


def renewal_new(request, **kwargs):
    raise Http404


def email_settings(request, **kwargs):
    raise Http404


def thread(request, **kwargs):
    raise Http404


def attachment(request, **kwargs):
    raise Http404
