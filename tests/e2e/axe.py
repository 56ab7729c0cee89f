"""axe-core on the pages the browser tests visit (issue 13, WCAG 2.1 A and AA).

The same pages as the Nu Html Checker's (`PageCollector` in nu_html.py keeps each distinct
HTML document the browser received, with its URL). At the end of the session each one is
opened again in Chromium exactly as it was received: its URL is routed to the stored body,
while its stylesheets and scripts load from the still-running server, so colours, layout and
scripts are the real ones. axe-core (npm `axe-core`, pinned in package.json, installed by
`make e2e`) is injected and run with the WCAG 2.0/2.1 A and AA rules only; a violation of
impact "serious" or "critical" fails the run, with a report naming the page (link tokens left
out), the rule, its help text and the elements (CSS selectors). Everything axe said, per page,
is saved as JSON under artifacts/axe/, with the report in artifacts/axe/report.txt.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from tests.e2e.nu_html import Page

REPO = Path(__file__).resolve().parents[2]
AXE_JS = Path(os.environ.get("AXE_JS", REPO / "node_modules/axe-core/axe.min.js"))
ARTIFACTS = REPO / "artifacts" / "axe"

TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
FAILING = ("critical", "serious")  # impacts that fail the run; "moderate"/"minor" are reported

_RUN = """async (tags) => {
  const results = await axe.run(document, {
    runOnly: { type: "tag", values: tags },
    resultTypes: ["violations"],
  });
  return { violations: results.violations, incomplete: results.incomplete,
           testEngine: results.testEngine, url: results.url };
}"""


def checker_missing() -> str | None:
    """Why axe cannot run here, or None when it can."""
    if not AXE_JS.exists():
        return f"{AXE_JS} is missing: `make e2e` installs it (npm ci)"
    return None


@dataclass(frozen=True)
class Violation:
    """One rule axe found broken on one page, with the elements that break it."""

    rule: str
    impact: str
    help: str
    help_url: str
    targets: tuple[str, ...]

    @property
    def fails(self) -> bool:
        return self.impact in FAILING

    def describe(self) -> str:
        lines = [f"  {self.impact}: {self.rule}: {self.help} ({self.help_url})"]
        lines += [f"      {target}" for target in self.targets[:10]]
        if len(self.targets) > 10:
            lines.append(f"      … and {len(self.targets) - 10} more")
        return "\n".join(lines)


def _violations(raw: dict) -> list[Violation]:
    found = []
    for v in raw.get("violations", []):
        targets = tuple(
            " ".join(str(part) for part in node.get("target", [])) for node in v.get("nodes", [])
        )
        found.append(
            Violation(
                rule=v["id"],
                impact=v.get("impact") or "minor",
                help=v.get("help", ""),
                help_url=re.sub(r"\?.*$", "", v.get("helpUrl", "")),
                targets=targets,
            )
        )
    return found


def run(page) -> tuple[list[Violation], dict]:
    """Inject axe into a loaded Playwright page and run it: its violations and the raw result.

    The browser context needs `bypass_csp=True`: the portal's Content-Security-Policy refuses
    the injected script otherwise.
    """
    missing = checker_missing()
    if missing:
        raise RuntimeError(f"axe-core cannot run: {missing}")
    page.add_script_tag(path=str(AXE_JS))
    raw = page.evaluate(_RUN, TAGS)
    return _violations(raw), raw


def check_html(browser, html: str, url: str = "http://axe.test/page") -> list[Violation]:
    """axe on one HTML text, served at `url` in a fresh context: its violations."""
    context = browser.new_context(bypass_csp=True)
    try:
        page = context.new_page()
        _serve(page, url, html.encode())
        page.goto(url)
        return run(page)[0]
    finally:
        context.close()


def _serve(page, url: str, body: bytes) -> None:
    """Answer the browser's request for `url` with `body` (a stored document); every other
    request (stylesheets, scripts) goes to the network as usual."""

    def handle(route) -> None:
        if route.request.url == url and route.request.resource_type == "document":
            route.fulfill(status=200, body=body, content_type="text/html; charset=utf-8")
        else:
            route.continue_()

    page.route("**/*", handle)


# ---------------------------------------------------------------------------
# The pages the browser tests visit


@dataclass
class Report:
    pages: list[Page]
    violations: dict[Path, list[Violation]] = field(default_factory=dict)

    @property
    def failures(self) -> int:
        return sum(v.fails for vs in self.violations.values() for v in vs)

    def summary(self) -> str:
        failing = sum(any(v.fails for v in vs) for vs in self.violations.values())
        others = sum(not v.fails for vs in self.violations.values() for v in vs)
        return (
            f"axe-core: {self.failures} serious or critical violation(s) in {failing} of "
            f"{len(self.pages)} distinct page(s) ({', '.join(TAGS)}), "
            f"{others} moderate or minor"
        )

    def text(self, everything: bool = False) -> str:
        """The summary, then each page with failing violations (all of them with
        `everything`): its URL (link tokens left out), status, language, the tests that
        visited it, and per rule its help text and the elements."""
        lines = [self.summary()]
        for page in self.pages:
            shown = [v for v in self.violations.get(page.path, []) if everything or v.fails]
            if not shown:
                continue
            lines += ["", f"{page.url} ({page.status}, lang={page.language or '?'})"]
            lines.append(f"  visited by {', '.join(page.tests)}")
            lines.extend(v.describe() for v in shown)
        return "\n".join(lines)


def check_pages(browser, pages: list[Page], folder: Path = ARTIFACTS) -> Report:
    """Open each collected page again as it was received and run axe on it.

    Saves artifacts: NNN-name.json (axe's violations and incomplete results) per page,
    report.txt and pages.json."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    report = Report(pages=pages)
    # One context for all: the pages are static copies, no cookie matters; the viewport is
    # a phone's, as patients mostly use.
    context = browser.new_context(bypass_csp=True, viewport={"width": 390, "height": 844})
    try:
        for page_info in pages:
            page = context.new_page()
            try:
                _serve(page, page_info.source_url, page_info.path.read_bytes())
                page.goto(page_info.source_url, wait_until="load")
                violations, raw = run(page)
            finally:
                page.close()
            report.violations[page_info.path] = violations
            saved = {
                "url": page_info.url,
                "status": page_info.status,
                "language": page_info.language,
                "tests": page_info.tests,
                "testEngine": raw.get("testEngine"),
                "violations": raw.get("violations", []),
                "incomplete": raw.get("incomplete", []),
            }
            (folder / f"{page_info.path.stem}.json").write_text(
                json.dumps(saved, indent=2), encoding="utf-8"
            )
    finally:
        context.close()
    (folder / "report.txt").write_text(report.text(everything=True) + "\n", encoding="utf-8")
    index = [
        {"file": f"{p.path.stem}.json", "url": p.url, "language": p.language, "tests": p.tests}
        for p in pages
    ]
    (folder / "pages.json").write_text(json.dumps(index, indent=2), encoding="utf-8")
    return report
