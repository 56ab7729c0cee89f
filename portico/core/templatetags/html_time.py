"""The one way pages write a machine-readable date or time: `<time datetime="…">`.

Django's `date:'c'` writes microseconds (2026-11-30T05:07:19.123456+00:00), which HTML does
not allow in a `datetime` attribute (at most three digits of a second); `datetime_attr`
writes a valid HTML date or date-and-time string instead.
"""

import datetime as dt

from django import template

register = template.Library()


@register.filter(expects_localtime=True)
def datetime_attr(value) -> str:
    """A date as 2026-11-30; a date and time to the second, in the time zone the page shows
    (the practice's, inside `{% timezone %}`) with its offset: 2026-11-29T23:07:19-06:00.
    Anything else gives an empty string, as Django's `date` filter does."""
    if isinstance(value, dt.datetime):
        return value.replace(microsecond=0).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return ""
