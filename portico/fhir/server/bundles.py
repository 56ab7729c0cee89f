"""The server's answers: searchset Bundles with paging links, as plain JSON data."""

from __future__ import annotations

import uuid
from urllib.parse import urlencode

from django.conf import settings
from django.utils import timezone

from portico.fhir.server.context import full_url
from portico.fhir.server.search import Page
from portico.records.fhir import _instant


def link(path: str, params: list[tuple[str, str]]) -> str:
    """An absolute URL of the server: `path` under the base, with `params`."""
    url = f"{settings.PORTICO_FHIR_BASE_URL}/{path}"
    return f"{url}?{urlencode(params)}" if params else url


def _entry(resource: dict, mode: str) -> dict:
    return {
        "fullUrl": full_url(resource["resourceType"], resource["id"]),
        "resource": resource,
        "search": {"mode": mode},
    }


def searchset(
    page: Page, *, path: str, params: list[tuple[str, str]], cursor: str | None = None
) -> dict:
    """A searchset Bundle of `page`: its matches, then what they include; the link to this
    page (the search as given) and, when there is more, to the next one."""
    bundle: dict = {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "meta": {"lastUpdated": _instant(timezone.now())},
        "type": "searchset",
    }
    if page.total is not None:
        bundle["total"] = page.total
    here = [*params, ("_cursor", cursor)] if cursor else params
    links = [{"relation": "self", "url": link(path, here)}]
    if page.next_cursor is not None:
        links.append(
            {"relation": "next", "url": link(path, [*params, ("_cursor", page.next_cursor)])}
        )
    bundle["link"] = links
    entries = [_entry(r, "match") for r in page.matches]
    entries += [_entry(r, "include") for r in page.included]
    if entries:
        bundle["entry"] = entries
    return bundle
