"""The Nu Html Checker on the pages the browser tests visit (DESIGN "Tests").

While the browser tests drive Chromium, `PageCollector` keeps the raw body of every HTML
document the server sent (each distinct page once) and saves it under artifacts/html/.
At the end of the session one Java run of the checker (npm `vnu-jar`, pinned in
package.json, installed by `make e2e`) validates them all; any error fails the run with
a report naming the page, the line and the message (also written to
artifacts/html/report.txt, with the checker's own JSON in artifacts/html/vnu.json).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

from playwright.sync_api import Error as PlaywrightError

REPO = Path(__file__).resolve().parents[2]
VNU_JAR = Path(os.environ.get("VNU_JAR", REPO / "node_modules/vnu-jar/build/dist/vnu.jar"))
CHECK_TIMEOUT = 300  # seconds for one run over every page

# Opaque ids are fine in a report (DESIGN: "URLs carry opaque ids"); link tokens are not.
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_TOKEN = re.compile(r"^[A-Za-z0-9_.~:-]{20,}$")
# What differs between two renderings of the same page (CSRF tokens, CSP nonces): left out
# when deciding whether a page was seen before.
_RANDOM = re.compile(rb"[A-Za-z0-9_+/=-]{20,}")
_HTML_LANG = re.compile(rb"<html\b[^>]*?\blang=[\"']?([A-Za-z-]*)", re.IGNORECASE)


def html_language(body: bytes) -> str:
    """The document's `<html lang>`, "" when it has none."""
    match = _HTML_LANG.search(body[:4096])
    return match.group(1).decode() if match else ""


def redact(url: str) -> str:
    """The URL's path and query with link tokens replaced: fit for a report."""
    parts = urlsplit(url)

    def clean(value: str) -> str:
        return "…" if _TOKEN.match(value) and not _UUID.match(value) else value

    path = "/".join(clean(segment) for segment in parts.path.split("/"))
    query = urlencode([(k, clean(v)) for k, v in parse_qsl(parts.query, keep_blank_values=True)])
    return path + (f"?{query}" if query else "")


@dataclass(frozen=True)
class Problem:
    """One message of the checker about one document."""

    kind: str  # "error", "warning" (vnu's info/warning) or "info"
    message: str
    line: int | None = None
    column: int | None = None
    extract: str = ""

    def describe(self) -> str:
        where = f"line {self.line}, column {self.column}" if self.line else "whole document"
        text = f"  {self.kind} at {where}: {self.message}"
        if self.extract:
            text += "\n      " + " ".join(self.extract.split())[:160]
        return text


def _problem(raw: dict) -> Problem:
    kind = raw.get("type", "error")
    if kind == "info":
        kind = "warning" if raw.get("subType") == "warning" else "info"
    elif kind != "error":  # "non-document-error": the checker could not read the file
        kind = "error"
    return Problem(
        kind=kind,
        message=raw.get("message", "").strip(),
        line=raw.get("lastLine") or raw.get("firstLine"),
        column=raw.get("firstColumn") or raw.get("lastColumn"),
        extract=raw.get("extract", ""),
    )


def checker_missing() -> str | None:
    """Why the checker cannot run here, or None when it can."""
    if shutil.which("java") is None:
        return "Java is not installed (Debian: apt-get install default-jre-headless)"
    if not VNU_JAR.exists():
        return f"{VNU_JAR} is missing: `make e2e` installs it (npm ci)"
    return None


def validate(paths: list[Path], save_json: Path | None = None) -> dict[Path, list[Problem]]:
    """Check HTML files in one run of the Nu Html Checker: every file's problems.

    `save_json` keeps the checker's own report (JSON) in that file.
    """
    if not paths:
        return {}
    missing = checker_missing()
    if missing:
        raise RuntimeError(f"Nu Html Checker cannot run: {missing}")
    result = subprocess.run(
        ["java", "-Xss4m", "-jar", str(VNU_JAR), "--format", "json", "--stdout"]
        + [str(p) for p in paths],
        capture_output=True,
        text=True,
        timeout=CHECK_TIMEOUT,
        check=False,
    )
    if save_json is not None:
        save_json.write_text(result.stdout, encoding="utf-8")
    try:
        messages = json.loads(result.stdout)["messages"]
    except (ValueError, KeyError) as exc:
        raise RuntimeError(
            f"Nu Html Checker gave no report (exit {result.returncode}):\n"
            f"{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
        ) from exc
    by_name = {p.name: p for p in paths}
    problems: dict[Path, list[Problem]] = {p: [] for p in paths}
    for raw in messages:
        name = unquote(urlsplit(raw.get("url", "")).path).rsplit("/", 1)[-1]
        path = by_name.get(name)
        if path is None:  # a message about no file of ours: keep it, on the first file
            path = paths[0]
        problems[path].append(_problem(raw))
    return problems


def validate_html(html: str, folder: Path, name: str = "page.html") -> list[Problem]:
    """Check one HTML text (saved as folder/name): its problems."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(html, encoding="utf-8")
    return validate([path])[path]


# ---------------------------------------------------------------------------
# The pages the browser tests visit


@dataclass
class Page:
    path: Path
    url: str  # redacted
    status: int
    tests: list[str] = field(default_factory=list)
    # The URL as the browser asked for it, link tokens included: to open the page again (axe)
    # and resolve its URL name. Never written to a report or a file.
    source_url: str = field(default="", repr=False)
    language: str = ""  # its <html lang>


@dataclass
class Report:
    pages: list[Page]
    problems: dict[Path, list[Problem]]
    documents: int = 0  # HTML documents received, repeats of a page included

    @property
    def errors(self) -> int:
        return sum(p.kind == "error" for ps in self.problems.values() for p in ps)

    @property
    def warnings(self) -> int:
        return sum(p.kind == "warning" for ps in self.problems.values() for p in ps)

    def summary(self) -> str:
        failing = sum(any(p.kind == "error" for p in ps) for ps in self.problems.values())
        return (
            f"Nu Html Checker: {self.errors} error(s) in {failing} of {len(self.pages)} "
            f"distinct page(s) ({self.documents} HTML document(s) received), "
            f"{self.warnings} warning(s)"
        )

    def text(self, kinds: tuple[str, ...] = ("error",)) -> str:
        """The summary, then each page with problems of these kinds: its URL (link tokens
        left out), status, saved file, the tests that visited it, line and message."""
        lines = [self.summary()]
        for page in self.pages:
            shown = [p for p in self.problems.get(page.path, []) if p.kind in kinds]
            if not shown:
                continue
            saved = page.path.relative_to(REPO) if page.path.is_relative_to(REPO) else page.path
            lines += ["", f"{page.url} ({page.status}), saved as {saved}"]
            lines.append(f"  visited by {', '.join(page.tests)}")
            lines.extend(p.describe() for p in shown)
        return "\n".join(lines)


def _same_origin(url: str, origin: str) -> bool:
    a, b = urlsplit(url), urlsplit(origin)
    return (a.scheme, a.netloc) == (b.scheme, b.netloc)


class PageCollector:
    """Keeps each distinct HTML document the browser received, as a file in `folder`."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder  # emptied at the first page: a run without pages leaves it be
        self._seen: dict[bytes, Page] = {}
        self.documents = 0  # every HTML document received, repeats included

    @property
    def pages(self) -> list[Page]:
        return list(self._seen.values())

    def add(self, url: str, status: int, body: bytes, test: str) -> None:
        self.documents += 1
        shown = redact(url)
        key = hashlib.sha256(shown.encode() + b"\n" + _RANDOM.sub(b"", body)).digest()
        page = self._seen.get(key)
        if not self._seen:
            if self.folder.exists():
                shutil.rmtree(self.folder)
            self.folder.mkdir(parents=True)
        if page is None:
            slug = re.sub(r"[^a-z0-9]+", "-", urlsplit(shown).path.lower()).strip("-") or "root"
            path = self.folder / f"{len(self._seen) + 1:03d}-{slug[:60]}.html"
            path.write_bytes(body)
            page = self._seen[key] = Page(
                path=path, url=shown, status=status, source_url=url, language=html_language(body)
            )
        if test not in page.tests:
            page.tests.append(test)

    def watch(self, context, test: str, origin: str | None = None) -> None:
        """Collect the HTML documents a Playwright browser context receives (those of `origin`
        only, when given: a test's own page framing Portico's is none of Portico's pages)."""

        def finished(request) -> None:
            if request.resource_type != "document":
                return
            if origin is not None and not _same_origin(request.url, origin):
                return
            response = request.response()
            if response is None or 300 <= response.status < 400:
                return  # a redirect has no page
            if not response.headers.get("content-type", "").startswith("text/html"):
                return
            try:
                body = response.body()
            except PlaywrightError:  # a page closed or navigated away meanwhile
                return
            self.add(request.url, response.status, body, test)

        context.on("requestfinished", finished)

    def check(self) -> Report:
        pages = self.pages
        problems = validate([p.path for p in pages], save_json=self.folder / "vnu.json")
        report = Report(pages=pages, problems=problems, documents=self.documents)
        text = report.text(kinds=("error", "warning"))
        (self.folder / "report.txt").write_text(text + "\n", encoding="utf-8")
        index = [
            {"file": p.path.name, "url": p.url, "status": p.status, "tests": p.tests} for p in pages
        ]
        (self.folder / "pages.json").write_text(json.dumps(index, indent=2), encoding="utf-8")
        return report
