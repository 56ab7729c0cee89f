"""The practice's appointment book pages (placeholders until built)."""

from django.http import Http404


def _todo(request, **kwargs):
    raise Http404("not built yet")


schedule = book = appointment = move = cancel = mark = _todo
settings_home = hours = visit_type_edit = location_edit = blocked = blocked_remove = _todo
