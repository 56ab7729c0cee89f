"""Template filters of the public pages."""

from django import template

from portico.booking.public import ld_json_script

register = template.Library()


@register.filter
def ld_json(data):
    """`{{ data|ld_json }}`: a <script type="application/ld+json"> data block holding `data`,
    escaped as Django's json_script escapes (its text cannot end the element)."""
    return ld_json_script(data)


@register.filter
def tel(phone: str) -> str:
    """A phone number as a tel: link writes it: digits, and a leading +."""
    phone = (phone or "").strip()
    digits = "".join(c for c in phone if c.isdigit())
    return ("+" + digits) if phone.startswith("+") else digits
