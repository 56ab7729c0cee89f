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
    "messaging:inbox": EN,
    "messaging:staff_thread": EN,
    "charts:timeline": EN,
    "practices:phr_invite": EN,
    "practices:messaging": EN,
    "scheduling:schedule": EN,
    "scheduling:settings": EN,
    "scheduling:hours": EN,
    "scheduling:book": EN,
    "scheduling:appointment": EN,
    "charts:appointments": EN,
    "booking:website_settings": EN,
    "booking:profile_settings": EN,
    "booking:requests": EN,
    "booking:request": EN,
    "charts:representative_invite": EN,
    "intake:list": EN,
    "intake:form": EN,
    "intake:chart_forms": EN,
}

# Patient-facing and public pages (the sign-in steps serve staff too): English and Spanish.
PATIENT_PAGES: dict[str, frozenset[str]] = {
    "system_requirements": EN_ES,
    "accounts:sign_in": EN_ES,
    "accounts:mfa_verify": EN_ES,
    "accounts:profile": EN_ES,
    "accounts:password_forgot": EN_ES,
    "accounts:password_reset_link": EN_ES,
    "accounts:password_reset_new": EN_ES,
    "portal:register": EN_ES,
    "portal:register_account": EN_ES,
    "records:record": EN_ES,
    "portal:home": EN_ES,
    "portal:representatives": EN_ES,
    "records:download": EN_ES,
    "records:send": EN_ES,
    "records:access_log": EN_ES,
    "records:shared": EN_ES,
    "messaging:patient_list": EN_ES,
    "messaging:patient_new": EN_ES,
    "messaging:patient_thread": EN_ES,
    "messaging:patient_renewal": EN_ES,
    "booking:search": EN_ES,
    "booking:profile": EN_ES,
    "booking:book": EN_ES,
    "booking:embed": EN_ES,
    "booking:patient_appointments": EN_ES,
    "booking:patient_reschedule": EN_ES,
    "booking:patient_withdraw": EN_ES,
    "booking:patient_cancel": EN_ES,
    "intake:patient_forms": EN_ES,
    "intake:patient_form": EN_ES,
    "intake:patient_form_review": EN_ES,
    "intake:link": EN_ES,
    "intake:link_form": EN_ES,
    "intake:link_submitted": EN_ES,
    "intake:link_form_review": EN_ES,
    # Patient apps (SMART on FHIR): the consent page with the record picker, Connected apps and
    # the disconnect step (test_smart_app.py).
    "oauth2_provider:authorize": EN_ES,
    "fhir_portal:connected_apps": EN_ES,
    "fhir_portal:disconnect": EN_ES,
}
CHECKED_PAGES: dict[str, frozenset[str]] = {**STAFF_PAGES, **PATIENT_PAGES}


def url_name(url: str) -> str:
    """The URL name ("namespace:name") of a page's URL; "" for a path no pattern matches."""
    from django.urls import Resolver404, resolve

    try:
        match = resolve(urlsplit(url).path)
    except Resolver404:
        return ""
    return match.view_name
