"""Valid HTML (issue 12): the Nu Html Checker finds no error on any page the browser tests
visit. The pages are collected while those tests run (`html_pages` in conftest.py) and
checked here, in one run of the checker, after the last of them; the files, the checker's
JSON and the report are in artifacts/html/.

The first tests show the checker catches what it must (a `<time datetime>` with
microseconds, the defect of issue 12) and passes a valid page, so a green run means the
pages were checked, not that the checker said nothing."""

from __future__ import annotations

import pytest

from tests.e2e import nu_html

pytestmark = pytest.mark.e2e

PAGE = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Timeline</title></head>
<body>
<ol>
  <li><time datetime="{value}">Nov 30, 2026 5:07 AM</time> Invited to the patient portal</li>
</ol>
</body>
</html>
"""


BAD = "2026-11-30T05:07:19.123456+00:00"  # Django's date:'c', the defect of issue 12
GOOD = ["2026-11-30T05:07:19Z", "2026-11-29T23:07:19-06:00", "2026-11-30"]  # datetime_attr's


def _need_checker() -> None:
    missing = nu_html.checker_missing()
    if missing:
        pytest.fail(f"the Nu Html Checker must run with the browser tests: {missing}")


@pytest.fixture
def folder(tmp_path):
    _need_checker()
    return tmp_path


@pytest.fixture(scope="module")
def checked(tmp_path_factory) -> dict[str, list[nu_html.Problem]]:
    """The sample page with each value, checked in one run: problems by value."""
    _need_checker()
    folder = tmp_path_factory.mktemp("samples")
    paths = {}
    for n, value in enumerate([BAD, *GOOD]):
        paths[value] = folder / f"{n}.html"
        paths[value].write_text(PAGE.format(value=value), encoding="utf-8")
    problems = nu_html.validate(list(paths.values()))
    return {value: problems[path] for value, path in paths.items()}


def test_checker_reports_microseconds_in_a_time_datetime(checked):
    errors = [p for p in checked[BAD] if p.kind == "error"]
    assert len(errors) == 1, checked[BAD]
    assert "datetime" in errors[0].message
    assert BAD in errors[0].message
    assert errors[0].line == 6


@pytest.mark.parametrize("value", GOOD)
def test_checker_passes_the_values_the_pages_write(checked, value):
    assert checked[value] == []


def test_checker_wrapper_reads_one_page(folder):
    problems = nu_html.validate_html(PAGE.format(value=BAD), folder)
    assert [p.kind for p in problems] == ["error"]


def test_report_names_the_page_line_and_message_without_link_tokens(folder):
    collector = nu_html.PageCollector(folder / "pages")
    bad = PAGE.format(value="2026-11-30T05:07:19.123456+00:00").encode()
    token = "Xq3v9Lr2Tt8kWm1Zp0Ys4Nc7Hb6Ge5Fd"
    collector.add(f"http://127.0.0.1:8000/register/{token}/", 200, bad, "test_a")
    collector.add(f"http://127.0.0.1:8000/register/{token}/", 200, bad, "test_b")  # same page
    collector.add("http://127.0.0.1:8000/ok/", 200, PAGE.format(value="2026-11-30").encode(), "t")

    report = collector.check()

    assert (report.errors, len(report.pages), collector.documents) == (1, 2, 3)
    text = report.text()
    assert text.startswith("Nu Html Checker: 1 error(s) in 1 of 2 distinct page(s) (3 HTML")
    assert "/register/…/ (200)" in text
    assert "visited by test_a, test_b" in text
    assert "error at line 6" in text
    assert token not in text
    assert "/ok/" not in text  # a valid page is not in the list of failures
    assert (folder / "pages" / "report.txt").read_text().strip() == text  # no warnings here


@pytest.mark.after_browser_tests
def test_every_page_the_browser_tests_visited_is_valid_html(html_pages):
    if not html_pages.pages:
        pytest.skip("no browser test ran in this session")
    report = html_pages.check()
    print(report.summary())  # shown with -rA; warnings too in artifacts/html/report.txt
    assert report.errors == 0, report.text()
