"""Every template's words are marked for translation (SPEC §12): no human text is left outside
`{% translate %}` / `{% blocktranslate %}` (Django templates) or `{{ _("…") }}` (the Jinja2
renderings), whether page text, a user-facing attribute (aria-label, title, placeholder, alt,
a button's value) or a text literal handed to a tag (`label="…"`, `default:"…"`, `yesno:"…"`).

Staff pages stay English for now, but they are marked too: one rule for every template, so a
page cannot slip through because of who reads it. Email .txt templates count as well.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

PORTICO = Path(__file__).resolve().parents[2] / "portico"

# Words that are the same in every language (the product's name).
UNTRANSLATED_WORDS = frozenset({"Portico"})

# Attributes whose value people read or hear; every other attribute (class, id, href, data-*,
# name, value of a hidden input ...) is for the machine.
TEXT_ATTRIBUTES = frozenset(
    {
        "alt",
        "title",
        "placeholder",
        "label",
        "aria-label",
        "aria-description",
        "aria-roledescription",
        "aria-placeholder",
        "aria-valuetext",
    }
)
BUTTON_INPUT_TYPES = frozenset({"submit", "button", "reset"})

WORD = re.compile(r"[^\W\d_]{2,}")
# Not words: web addresses, email addresses, file names (of templates and static files) and
# character references.
NOT_WORDS = re.compile(
    r"(?:https?://|mailto:|www\.)\S+|[\w.+-]+@[\w-]+\.[\w.-]+"
    r"|[\w/.-]+\.(?:html|txt|js|css|json|svg|png)\b|&#?\w+;"
)

# Translated blocks go away whole; template tags and comments leave a blank of the same lines.
BLOCK_TRANSLATE = re.compile(
    r"\{%-?\s*blocktrans(?:late)?\b.*?\{%-?\s*endblocktrans(?:late)?\s*-?%\}", re.S
)
# Blocks named *_class fill a class attribute (base.html's body_class), not the page's text.
CLASS_BLOCK = re.compile(r"\{%-?\s*block\s+\w+_class\s*-?%\}.*?\{%-?\s*endblock\b.*?%\}", re.S)
COMMENT_BLOCK = re.compile(r"\{%-?\s*comment\b.*?\{%-?\s*endcomment\s*-?%\}", re.S)
COMMENT = re.compile(r"\{#.*?#\}", re.S)
TAG = re.compile(r"\{%.*?%\}|\{\{.*?\}\}", re.S)

# String literals inside a tag, and what makes one text for people: the argument of a filter
# that prints it (default, yesno; Jinja's default() and d()), or a value given to a name
# (`with label="…"`, `{% set title = "…" %}`) that reads like words rather than a key.
LITERAL = re.compile(r"""(["'])((?:(?!\1).)*)\1""", re.S)
TEXT_FILTER_ARGUMENT = re.compile(r"\b(?:default|default_if_none|yesno|d)\s*[:(]\s*$")
ASSIGNED = re.compile(r"(?:^|[^=!<>])=\s*$")
I18N_CALL = re.compile(r"\b_\(\s*$")
UNCHECKED_TAGS = frozenset({"translate", "trans"})


def template_files() -> list[Path]:
    django = [
        p
        for p in PORTICO.glob("**/templates/**/*")
        if p.suffix in {".html", ".txt"} and p.is_file()
    ]
    jinja = [p for p in PORTICO.glob("*/jinja2/**/*.html") if p.is_file()]
    return sorted(django + jinja)


def _words(text: str) -> list[str]:
    return [w for w in WORD.findall(NOT_WORDS.sub(" ", text)) if w not in UNTRANSLATED_WORDS]


def _blank(match: re.Match) -> str:
    """The same number of lines, so what is left keeps its line numbers."""
    return " " + "\n" * match.group().count("\n")


def _line_of(source: str, offset: int) -> int:
    return source.count("\n", 0, offset) + 1


def _reads_as_text(literal: str) -> bool:
    """ "Not invited" or "Patients" are words; "not_invited", "m/d/Y" or "1,0" are not."""
    return bool(_words(literal)) and bool(
        re.search(r"\S\s+\S", literal.strip()) or re.match(r"[A-Z][a-z]", literal)
    )


def literal_problems(source: str) -> list[tuple[int, str]]:
    """Text literals inside template tags that reach the page untranslated."""
    problems = []
    for tag in TAG.finditer(source):
        content = tag.group()[2:-2].strip(" -\n\t")
        name = content.split(None, 1)[0] if content and tag.group().startswith("{%") else ""
        if name in UNCHECKED_TAGS:
            continue
        for literal in LITERAL.finditer(content):
            before, text = content[: literal.start()], literal.group(2)
            if I18N_CALL.search(before):
                continue
            if (TEXT_FILTER_ARGUMENT.search(before) and _words(text)) or (
                ASSIGNED.search(before) and _reads_as_text(text)
            ):
                offset = tag.start() + tag.group().find(literal.group())
                problems.append((_line_of(source, offset), literal.group()))
    return problems


class _TextFinder(HTMLParser):
    """Collects (line, text) of the page text and the readable attributes left over."""

    def __init__(self):
        super().__init__(convert_charrefs=False)
        self.found: list[tuple[int, str]] = []
        self._skip_depth = 0

    def _add(self, line: int, text: str) -> None:
        for number, part in enumerate(text.split("\n")):
            if _words(part):
                self.found.append((line + number, part.strip()))

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip_depth += 1
        values = dict(attrs)
        readable = set(TEXT_ATTRIBUTES)
        if tag == "input" and (values.get("type") or "").lower() in BUTTON_INPUT_TYPES:
            readable.add("value")
        if tag == "meta" and (values.get("name") or "").lower() == "description":
            readable.add("content")
        line = self.getpos()[0]
        source = self.get_starttag_text() or ""
        for name, value in attrs:
            if name in readable and value and _words(value):
                at = source.find(f"{name}=")
                self._add(line + source.count("\n", 0, max(at, 0)), f'{name}="{value}"')

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag in ("script", "style"):
            self._skip_depth -= 1

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._skip_depth:
            self._skip_depth -= 1

    def handle_data(self, data):
        if not self._skip_depth:
            self._add(self.getpos()[0], data)


def unmarked_text(source: str, *, html: bool = True) -> list[tuple[int, str]]:
    """(line, text) of every piece of human text left outside the translation tags."""
    problems = literal_problems(source)
    for pattern in (CLASS_BLOCK, COMMENT_BLOCK, COMMENT, BLOCK_TRANSLATE, TAG):
        source = pattern.sub(_blank, source)
    if html:
        finder = _TextFinder()
        finder.feed(source)
        finder.close()
        problems += finder.found
    else:
        problems += [
            (number, line.strip())
            for number, line in enumerate(source.split("\n"), start=1)
            if _words(line)
        ]
    return sorted(problems)


def _name(path: Path) -> str:
    return path.relative_to(PORTICO).as_posix()


@pytest.mark.parametrize("path", template_files(), ids=_name)
def test_template_text_is_marked_for_translation(path):
    name = _name(path)
    problems = unmarked_text(path.read_text(encoding="utf-8"), html=path.suffix == ".html")
    assert not problems, "Text not marked for translation:\n" + "\n".join(
        f"portico/{name}:{line}: {text}" for line, text in problems
    )


@pytest.mark.parametrize(
    "source",
    [
        "<p>Sign in</p>",
        '<a href="/x" aria-label="Close">×</a>',
        '<input type="search" placeholder="Name, or 04/21/1980">',
        '<input type="submit" value="Save">',
        '<img src="/a.png" alt="Logo of the practice">',
        "<title>{% block title %}Chart{% endblock %}</title>",
        "<p>{{ count }} matching patient{{ count|pluralize }}</p>",
        '{% include "includes/status_badge.html" with state="not_invited" label="Not invited" %}',
        '{% include "includes/patient_table.html" with caption="Patients" %}',
        '<p>{{ who|default:"someone" }}</p>',
        '<td>{{ m.may_invite|yesno:"Yes,No" }}</td>',
        '<td>{{ e.provider|default("Unknown") }}</td>',
        '<p>{% translate "Saved." %} Thank you</p>',
        "<p>{% blocktranslate %}Marked{% endblocktranslate %} and not</p>",
        "{# Jinja: makemessages reads only _() #}<p>{% trans %}Allergies{% endtrans %}</p>",
        '<p class="notice">\n  Auto-invite is on\n</p>',
    ],
)
def test_the_check_finds_unmarked_text(source):
    assert unmarked_text(source)


@pytest.mark.parametrize(
    "source",
    [
        '{% load i18n %}<p class="card muted" id="x-1" data-field="state_label">&nbsp;·—</p>',
        '<a href="https://example.com/help/page" class="button-secondary">{% translate "Go" %}</a>',
        '<td>{{ x.date|date:"M j, Y g:i A" }}</td><td>{{ y|date:"DATE_FORMAT" }}</td>',
        '{% if portal.state == "invited" or section == "phr_invite" %}—{% endif %}',
        '{% include "charts/_record_nav.html" with tab="summary" %}',
        '{% include "x.html" with state="not_invited" label=_("Not invited") %}',
        '<p>{{ name|default:_("Someone") }} {{ x|default:"—" }} {{ y|yesno:"1,0" }}</p>',
        '<th scope="col">{{ _("Allergies") }}</th><td>{{ _("Taken %(n)s times") % {"n": n} }}</td>',
        '<span aria-label="{% blocktranslate with n=1 %}Page {{ n }}{% endblocktranslate %}">',
        '<input type="hidden" name="confirmed" value="yes"><option value="MD">{{ c }}</option>',
        "<script>const words = 'not page text';</script><style>.a::after{content:'x y'}</style>",
        "<!-- a developer's note --><!DOCTYPE html>{# a comment #}"
        "{% comment %}A longer note{% endcomment %}",
        "<p>Portico · {{ practice.name }}</p><p>support@example.com</p>",
        '{% extends "base.html" %}{% block body_class %}staff{% endblock %}',
        '{% extends staff|yesno:"base_staff.html,base_patient.html" %}',
        '<a href="?q={{ q|urlencode }}&amp;page=2">{% translate "Next" %}</a> 2/3 (100%)',
    ],
)
def test_the_check_leaves_markup_and_values_alone(source):
    assert unmarked_text(source) == []


def test_plain_text_templates_are_read_as_text():
    email = '{% load i18n %}{% translate "Hello," %}\n\n<{{ url }}>\nThe Portico team\n'
    assert unmarked_text(email, html=False) == [(4, "The Portico team")]


def test_problems_name_their_lines():
    source = '{% load i18n %}\n<h1>{% translate "Chart" %}</h1>\n<p>\n  Left over\n</p>\n'
    assert unmarked_text(source) == [(4, "Left over")]
