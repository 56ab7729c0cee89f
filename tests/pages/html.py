"""A tiny HTML reader for page tests: find elements and read their visible text.

Pages are checked the way a person (or a screen reader) meets them, so tests look for
elements and their text rather than for fragments of template source.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

VOID = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "source",
    "track",
    "wbr",
}


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    children: list[Element | str] = field(default_factory=list)
    parent: Element | None = None

    def __getitem__(self, name: str) -> str:
        return self.attrs[name]

    def get(self, name: str, default: str | None = None) -> str | None:
        return self.attrs.get(name, default)

    @property
    def text(self) -> str:
        """Visible text, whitespace collapsed."""
        parts: list[str] = []

        def walk(node):
            for child in node.children:
                if isinstance(child, str):
                    parts.append(child)
                elif child.tag not in ("script", "style"):
                    walk(child)

        walk(self)
        return re.sub(r"\s+", " ", "".join(parts)).strip()

    def iter(self):
        for child in self.children:
            if isinstance(child, Element):
                yield child
                yield from child.iter()

    def find_all(self, tag: str | None = None, text: str | None = None, **attrs) -> list[Element]:
        """Elements by tag, exact visible text and attributes (`class_` for class)."""
        found = []
        for el in self.iter():
            if tag is not None and el.tag != tag:
                continue
            if text is not None and el.text != text:
                continue
            if not all(_attr_matches(el, k, v) for k, v in attrs.items()):
                continue
            found.append(el)
        return found

    def find(self, tag: str | None = None, text: str | None = None, **attrs) -> Element | None:
        found = self.find_all(tag, text, **attrs)
        return found[0] if found else None

    def one(self, tag: str | None = None, text: str | None = None, **attrs) -> Element:
        found = self.find_all(tag, text, **attrs)
        assert len(found) == 1, f"expected one <{tag}> {text or ''} {attrs}, found {len(found)}"
        return found[0]

    def ancestors(self):
        node = self.parent
        while node is not None:
            yield node
            node = node.parent

    def closest(self, tag: str) -> Element | None:
        return next((a for a in self.ancestors() if a.tag == tag), None)


def _attr_matches(el: Element, name: str, value) -> bool:
    name = name.rstrip("_").replace("_", "-")
    actual = el.attrs.get(name)
    if value is True:
        return actual is not None
    if actual is None:
        return False
    if name == "class":
        return value in actual.split()
    return actual == value


class _Builder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {})
        self.current = self.root

    def handle_starttag(self, tag, attrs):
        el = Element(tag, {k: (v if v is not None else "") for k, v in attrs}, parent=self.current)
        self.current.children.append(el)
        if tag not in VOID:
            self.current = el

    def handle_startendtag(self, tag, attrs):
        el = Element(tag, {k: (v if v is not None else "") for k, v in attrs}, parent=self.current)
        self.current.children.append(el)

    def handle_endtag(self, tag):
        node = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.current = node.parent

    def handle_data(self, data):
        self.current.children.append(data)


def parse(response_or_html) -> Element:
    html = response_or_html
    if hasattr(html, "content"):
        html = html.content.decode()
    builder = _Builder()
    builder.feed(html)
    builder.close()
    return builder.root


def field_errors(page: Element, field_id: str) -> list[str]:
    """The messages shown next to a field (the list the field's template puts under it)."""
    errors = page.find(id=f"{field_id}_error")
    return [li.text for li in errors.find_all("li")] if errors else []


def form_errors(page: Element) -> list[str]:
    """Messages shown for the form as a whole."""
    return [p.text for box in page.find_all(class_="form-errors") for p in box.find_all("p")]


def messages(page: Element) -> list[str]:
    return [p.text for p in page.find_all("p", class_="message")]
