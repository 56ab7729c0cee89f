"""Filters of the patient's portal pages: whose record is open and as whom, the records the
account may switch to, and what a page may show through an access (portal.representation)."""

from django import template

from portico.portal import representation

register = template.Library()


@register.filter
def viewing_line(access) -> str:
    """Whose record is open and as whom: "Viewing Sam Rivera's record — you are their
    parent", or "Viewing your record"."""
    return representation.viewing_line(access)


@register.filter
def record_label(access) -> str:
    """The switcher's name of a record: "Your record at Riverside Clinic", or "Sam Rivera's
    record at Riverside Clinic (you are their parent)"."""
    return representation.record_label(access)


@register.filter
def openable(accesses) -> list:
    """The records of the account's list it may open now (its active accesses, own and
    represented); revoked and ended ones are left out."""
    return [a for a in accesses if representation.is_active(a)]


@register.filter
def portal_scope(access) -> representation.Scope:
    """What the portal pages may show through this access (representation.scope_of)."""
    return representation.scope_of(access)


@register.filter
def relationship_noun(relationship: str) -> str:
    """The relationship as it reads in a sentence ("parent", "legal guardian")."""
    return representation.relationship_noun(relationship)
