"""The pages the browser tests check (axe-core and the Nu Html Checker), by URL name and language.

Each page the browser received is named by Django's `resolve()` of its path ("namespace:name")
and its `<html lang>`. test_accessibility.py fails when a visited page's URL name is not listed
here (a new URL pattern: add it, in the languages it is visited in) and when a listed
(name, language) was never visited, so the list says what is really checked.

Patient-facing and public pages are listed with both "en" and "es"; staff pages with "en"
(staff pages stay English for now).
"""

from __future__ import annotations

from urllib.parse import urlsplit

EN = frozenset({"en"})
EN_ES = frozenset({"en", "es"})

# Staff pages: checked in English.
STAFF_PAGES: dict[str, frozenset[str]] = {
    "charts:patient_list": EN,
    "charts:chart": EN,
    "charts:portal_action": EN,
    "charts:chart_summary": EN,
    "charts:item_list": EN,
    "charts:item_new": EN,
    "charts:encounter_new": EN,
    "charts:encounter": EN,
    "accounts:mfa_enroll": EN,
    "outreach:bulk_invite": EN,
    "outreach:run": EN,
}

# Patient-facing and public pages (the sign-in steps serve staff too).
PATIENT_PAGES: dict[str, frozenset[str]] = {
    "accounts:sign_in": EN,
    "accounts:mfa_verify": EN,
    "accounts:profile": EN,
    "accounts:password_forgot": EN,
    "accounts:password_reset_link": EN,
    "accounts:password_reset_new": EN,
    "portal:register": EN,
    "portal:register_account": EN,
    "records:record": EN,
    "records:download": EN,
    "records:send": EN,
    "records:access_log": EN,
    "records:shared": EN,
}
CHECKED_PAGES: dict[str, frozenset[str]] = {**STAFF_PAGES, **PATIENT_PAGES}
# Built by another change of issue 13; checked once its URL resolves (see checked_pages()).
SYSTEM_REQUIREMENTS = "/system-requirements/"

# TODO(lead): the patient-facing and public pages still to be checked in Spanish. The Spanish
# browser story visits them; then give each "es" in PATIENT_PAGES (EN_ES) and take it out of
# this list. test_accessibility.py requires every patient page to be either checked in "es"
# or listed here, and nothing listed here to be checked in "es" already.
# The System requirements page joins them once it exists (see checked_pages()).
SPANISH_TODO: frozenset[str] = frozenset(
    {
        "accounts:sign_in",
        "accounts:mfa_verify",
        "accounts:profile",
        "accounts:password_forgot",
        "accounts:password_reset_link",
        "accounts:password_reset_new",
        "portal:register",
        "portal:register_account",
        "records:record",
        "records:download",
        "records:send",
        "records:access_log",
        "records:shared",
    }
)


def url_name(url: str) -> str:
    """The URL name ("namespace:name") of a page's URL; "" for a path no pattern matches."""
    from django.urls import Resolver404, resolve

    try:
        match = resolve(urlsplit(url).path)
    except Resolver404:
        return ""
    return match.view_name


def checked_pages() -> dict[str, frozenset[str]]:
    """Every page checked, by URL name: the lists above, and the System requirements page
    once it exists (test_small_screens.py visits it, in English so far)."""
    pages = dict(CHECKED_PAGES)
    name = url_name(SYSTEM_REQUIREMENTS)
    if name:
        pages.setdefault(name, EN)
    return pages


def patient_page_names() -> set[str]:
    return set(checked_pages()) - set(STAFF_PAGES)


def spanish_todo() -> set[str]:
    """SPANISH_TODO, and the System requirements page while it is checked in English only."""
    todo = set(SPANISH_TODO)
    name = url_name(SYSTEM_REQUIREMENTS)
    if name and name not in PATIENT_PAGES:
        todo.add(name)
    return todo
