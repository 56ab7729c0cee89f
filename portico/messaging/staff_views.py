"""PLACEHOLDER: replaced by the helper that builds these pages."""

from django.http import Http404


def inbox(request, **kwargs):
    raise Http404


def thread(request, **kwargs):
    raise Http404


def reply(request, **kwargs):
    raise Http404


def status(request, **kwargs):
    raise Http404


def assign(request, **kwargs):
    raise Http404


def file_to_chart(request, **kwargs):
    raise Http404


def renewal_answer(request, **kwargs):
    raise Http404


def attachment(request, **kwargs):
    raise Http404
