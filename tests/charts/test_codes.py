"""The shipped code lists and their search-as-you-type."""

import pytest

from portico.charts.clinical_rules import CODE_PATTERNS
from portico.charts.codes import FILES, code_list, code_lookup, code_search
from portico.charts.models import VITAL_DEFINITIONS, CodeSystem


@pytest.mark.parametrize(
    ("system", "at_least"), [("icd10cm", 150), ("rxnorm", 100), ("cvx", 40), ("loinc", 80)]
)
def test_each_list_has_its_common_codes_once_and_well_formed(system, at_least):
    codes = code_list(system)
    assert len(codes) >= at_least
    assert len({c.code for c in codes}) == len(codes)
    pattern, _ = CODE_PATTERNS[system]
    assert all(pattern.match(c.code) and c.display for c in codes)


def test_search_finds_by_code_prefix_and_by_words_in_any_case():
    assert code_search("rxnorm", "LISIN")[0].display == "lisinopril"
    assert [c.code for c in code_search("icd10cm", "e11")][:1] == ["E11.9"]
    assert code_search("loinc", "hemoglobin a1c")[0].code == "4548-4"
    assert code_search("cvx", "influenza", limit=3) and len(code_search("cvx", "flu", limit=3)) <= 3
    assert code_search("icd10cm", "") == [] and code_search("icd10cm", "zzzz") == []


def test_search_within_a_loinc_category():
    assert all(c.category == "vital" for c in code_search("loinc", "blood", category="vital"))
    assert code_search("loinc", "8480-6", category="lab") == []


def test_every_vital_kind_has_its_loinc_code_listed():
    for code, *_ in VITAL_DEFINITIONS.values():
        assert code_lookup(CodeSystem.LOINC, code).category == "vital"


def test_only_the_shipped_systems_have_lists():
    assert set(FILES) == {"icd10cm", "rxnorm", "cvx", "loinc"}
    assert code_list("snomed") == () and code_lookup("snomed", "1") is None
