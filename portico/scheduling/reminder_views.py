"""Reminder opt-out: the chart's switch and the emails' unsubscribe link (placeholders)."""

from django.http import Http404


def unsubscribe(request, **kwargs):
    raise Http404("not built yet")


def chart_reminders(request, **kwargs):
    raise Http404("not built yet")
