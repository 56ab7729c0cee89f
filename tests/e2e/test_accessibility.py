"""Accessibility checked by machine (issue 13): axe-core finds no serious or critical WCAG 2.1
A/AA violation on any page the browser tests visit, and those pages are the ones listed in
checked_pages.py, in the languages listed there.

The pages are collected while the browser tests run (`html_pages` in conftest.py, the Nu Html
Checker's collection) and checked here after the last of them (tests/e2e/axe.py); axe's
results and the report are in artifacts/axe/. The first tests show axe catches what it must
(an unlabelled field, a page without a language, text too faint to read) and passes a good
page, so a green run means the pages were checked, not that the checker said nothing.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.e2e import axe, checked_pages
from tests.e2e.nu_html import PageCollector

pytestmark = pytest.mark.e2e

GOOD = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Sign in · Portico</title></head>
<body>
<header><a href="#main">Skip to content</a></header>
<main id="main">
  <h1>Sign in</h1>
  <form method="post">
    <label for="email">Email</label> <input id="email" name="email" type="email">
    <button type="submit">Sign in</button>
  </form>
  <p style="color:#4f5d6b">Forgot password?</p>
</main>
</body>
</html>
"""

BAD_PAGES = {
    # An input with no label: a screen reader says "edit text" and nothing more.
    "label": GOOD.replace('<label for="email">Email</label> ', ""),
    # No language: a screen reader reads Spanish with English rules, or the reverse.
    "html-has-lang": GOOD.replace('<html lang="en">', "<html>"),
    # Light grey on white: 2.3:1, below the 4.5:1 AA asks of normal text.
    "color-contrast": GOOD.replace("color:#4f5d6b", "color:#aaaaaa"),
}


def _need_axe() -> None:
    missing = axe.checker_missing()
    if missing:
        pytest.fail(f"axe-core must run with the browser tests: {missing}")


@pytest.mark.parametrize("rule", sorted(BAD_PAGES))
def test_axe_fails_a_page_that_breaks_the_rule(browser, rule):
    _need_axe()
    violations = axe.check_html(browser, BAD_PAGES[rule])
    failing = [v for v in violations if v.fails]
    assert [v.rule for v in failing] == [rule], violations
    assert failing[0].targets, failing[0]


def test_axe_passes_a_good_page(browser):
    _need_axe()
    assert axe.check_html(browser, GOOD) == []


def test_report_names_the_page_rule_help_and_elements_without_link_tokens(browser, tmp_path):
    _need_axe()
    collector = PageCollector(tmp_path / "html")
    token = "Xq3v9Lr2Tt8kWm1Zp0Ys4Nc7Hb6Ge5Fd"
    url = f"http://axe.test/portal/register/{token}/"
    collector.add(url, 200, BAD_PAGES["label"].encode(), "test_a")
    collector.add("http://axe.test/ok/", 200, GOOD.encode(), "test_b")

    report = axe.check_pages(browser, collector.pages, folder=tmp_path / "axe")

    assert report.failures == 1
    text = report.text()
    assert text.startswith("axe-core: 1 serious or critical violation(s) in 1 of 2 distinct")
    assert "/portal/register/…/ (200, lang=en)" in text
    assert "visited by test_a" in text
    assert "critical: label: Form elements must have labels" in text
    assert "      #email" in text
    assert token not in text
    assert "/ok/" not in text
    saved = sorted(p.name for p in (tmp_path / "axe").iterdir())
    assert saved == ["001-portal-register.json", "002-ok.json", "pages.json", "report.txt"]
    assert token not in (tmp_path / "axe" / "pages.json").read_text()


# ---------------------------------------------------------------------------
# The list of pages checked


def test_url_names_are_resolved_from_the_path():
    assert checked_pages.url_name("http://127.0.0.1:8000/accounts/sign-in/?next=/ehr/") == (
        "accounts:sign_in"
    )
    assert checked_pages.url_name("http://127.0.0.1:8000/portal/register/abc/account/") == (
        "portal:register_account"
    )
    assert checked_pages.url_name("http://127.0.0.1:8000/no/such/page/") == ""


def test_patient_pages_are_checked_in_both_languages():
    for name, languages in checked_pages.PATIENT_PAGES.items():
        assert languages == {"en", "es"}, f"{name}: check it in English and Spanish"
    for name, languages in checked_pages.STAFF_PAGES.items():
        assert "en" in languages, name


@pytest.mark.after_browser_tests
def test_every_page_the_browser_tests_visited_passes_axe(browser, html_pages, request):
    """The pages are opened again while the servers still run, for their CSS and scripts."""
    if not html_pages.pages:
        pytest.skip("no browser test ran in this session")
    _need_axe()
    request.getfixturevalue("stack")  # started already by the tests that visited the pages
    report = axe.check_pages(browser, html_pages.pages)
    print(report.summary())  # shown with -rA; everything in artifacts/axe/report.txt
    assert report.failures == 0, report.text()


def _visited(html_pages: PageCollector) -> dict[tuple[str, str], list[str]]:
    """(URL name, language) of every page visited: the pages' URLs (link tokens left out)."""
    visited: dict[tuple[str, str], list[str]] = {}
    for page in html_pages.pages:
        key = (checked_pages.url_name(page.source_url), page.language)
        visited.setdefault(key, []).append(page.url)
    return visited


@pytest.mark.after_browser_tests
def test_every_page_visited_is_in_the_list_of_pages_checked(html_pages):
    if not html_pages.pages:
        pytest.skip("no browser test ran in this session")
    pages = checked_pages.CHECKED_PAGES
    problems = []
    for (name, language), urls in sorted(_visited(html_pages).items()):
        if not name:
            problems.append(f"no URL pattern matches {urls[0]}")
        elif name not in pages:
            problems.append(
                f"new URL pattern {name!r} ({urls[0]}, lang={language}): add it to "
                "CHECKED_PAGES (tests/e2e/checked_pages.py)"
            )
        elif language not in pages[name]:
            problems.append(
                f"{name!r} visited in language {language!r} ({urls[0]}), listed in "
                f"{sorted(pages[name])}: add the language to CHECKED_PAGES"
            )
    assert not problems, "\n".join(problems)


def _whole_browser_suite_ran(request) -> str | None:
    """Why the session did not run every browser test, or None when it did."""
    ran = {Path(str(item.path)).name for item in request.session.items}
    expected = {p.name for p in Path(__file__).parent.glob("test_*.py")}
    if expected - ran:
        return f"only part of the browser tests ran (not {', '.join(sorted(expected - ran))})"
    if request.config.getoption("keyword"):
        return "tests were chosen with -k"
    if request.session.testsfailed:
        return "a browser test failed, so some pages may not have been visited"
    return None


@pytest.mark.after_browser_tests
def test_every_page_in_the_list_was_visited(html_pages, request):
    """So the list cannot rot: every (URL name, language) listed was checked in this run."""
    partial = _whole_browser_suite_ran(request)
    if partial:
        pytest.skip(partial)
    visited = set(_visited(html_pages))
    missing = [
        f"{name} in {language!r}"
        for name, languages in sorted(checked_pages.CHECKED_PAGES.items())
        for language in sorted(languages)
        if (name, language) not in visited
    ]
    assert not missing, "listed in CHECKED_PAGES but visited by no browser test:\n" + "\n".join(
        missing
    )


@pytest.mark.after_browser_tests
def test_every_page_visited_has_exactly_one_main_heading(html_pages):
    """One h1 per page (issue 13): a screen reader's "next heading level 1" finds the page's
    subject, once."""
    if not html_pages.pages:
        pytest.skip("no browser test ran in this session")
    wrong = []
    for page in html_pages.pages:
        count = len(re.findall(r"<h1[\s>]", page.path.read_text(encoding="utf-8")))
        if count != 1:
            wrong.append(f"{page.url} ({page.status}): {count} h1")
    assert not wrong, "pages without exactly one h1:\n" + "\n".join(wrong)
