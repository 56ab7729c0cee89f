"""Small lists of common codes for search-as-you-type (ICD-10-CM, RxNorm, CVX, LOINC).

The CSV files beside this module were put together by hand for this project: a few hundred
codes a primary-care practice uses every day, not the full terminologies. A code missing
here can still be typed as free text. Each list is read once per process and kept.
"""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from portico.charts.models import CodeSystem

FILES = {
    CodeSystem.ICD10CM: "icd10cm.csv",
    CodeSystem.RXNORM: "rxnorm.csv",
    CodeSystem.CVX: "cvx.csv",
    CodeSystem.LOINC: "loinc.csv",
}


@dataclass(frozen=True)
class Code:
    system: str
    code: str
    display: str
    unit: str = ""
    low: Decimal | None = None
    high: Decimal | None = None
    category: str = ""  # LOINC only: lab, vital or screening

    def as_json(self) -> dict:
        data = {"code": self.code, "display": self.display}
        if self.unit:
            data["unit"] = self.unit
        if self.low is not None:
            data["low"] = str(self.low)
        if self.high is not None:
            data["high"] = str(self.high)
        return data


def _decimal(text: str) -> Decimal | None:
    return Decimal(text) if text else None


@functools.cache
def code_list(system: str) -> tuple[Code, ...]:
    """Every code of the system's list, in file order (an empty tuple for other systems)."""
    name = FILES.get(system)
    if name is None:
        return ()
    with (Path(__file__).parent / name).open(encoding="utf-8", newline="") as handle:
        return tuple(
            Code(
                system=system,
                code=row["code"],
                display=row["display"],
                unit=row.get("unit") or "",
                low=_decimal(row.get("low") or ""),
                high=_decimal(row.get("high") or ""),
                category=row.get("category") or "",
            )
            for row in csv.DictReader(handle)
        )


@functools.cache
def _by_code(system: str) -> dict[str, Code]:
    return {c.code.upper(): c for c in code_list(system)}


def code_lookup(system: str, code: str) -> Code | None:
    """The listed code, or None when the list does not have it."""
    return _by_code(system).get((code or "").strip().upper())


def code_search(system: str, query: str, *, category: str = "", limit: int = 15) -> list[Code]:
    """Codes whose code starts with the query, then those whose display holds every word of it.

    Case does not matter; "lisin" finds lisinopril, "e11" finds the type 2 diabetes codes,
    "hemo a1c" finds hemoglobin A1c.
    """
    words = (query or "").strip().lower().split()
    if not words or limit <= 0:
        return []
    codes = [c for c in code_list(system) if not category or c.category == category]
    first = query.strip().upper()
    by_code = [c for c in codes if c.code.upper().startswith(first)]
    seen = {c.code for c in by_code}
    by_words = [
        c for c in codes if c.code not in seen and all(w in c.display.lower() for w in words)
    ]
    by_words.sort(key=lambda c: (not c.display.lower().startswith(words[0]), len(c.display)))
    return (by_code + by_words)[:limit]
