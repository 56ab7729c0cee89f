"""Moving through pages with the keyboard alone, as a person without a mouse does.

Only key presses: Tab / Shift+Tab to move, typing into the focused element, Enter and Space to
act. What has the focus is read from `document.activeElement`, by the name a screen reader
would give it (its label, its text), so a test says where the focus is in a person's words.
"""

from __future__ import annotations

from playwright.sync_api import Page

MAX_TABS = 40  # more Tab presses than that to reach something is itself a failure

_FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const text = (node) => (node ? node.textContent.replace(/\\s+/g, " ").trim() : "");
  let name = el.getAttribute("aria-label") || "";
  if (!name && el.labels && el.labels.length) name = text(el.labels[0]).replace(/\\s*\\*$/, "");
  if (!name) name = text(el);
  return { tag: el.tagName.toLowerCase(), id: el.id, type: el.getAttribute("type") || "",
           name, classes: el.className || "", value: "value" in el ? el.value : "" };
}"""


def focused(page: Page) -> dict | None:
    """The focused element: tag, id, type, accessible name (label or text), classes, value."""
    return page.evaluate(_FOCUSED)


def focused_name(page: Page) -> str:
    info = focused(page)
    return info["name"] if info else ""


def tab(page: Page, times: int = 1) -> dict | None:
    for _ in range(times):
        page.keyboard.press("Tab")
    return focused(page)


def tab_to(page: Page, name: str, *, tag: str | None = None, limit: int = MAX_TABS) -> dict:
    """Press Tab until the element named `name` (exactly; and of `tag`, if given) has the
    focus; fail, naming the stops passed, when it never does."""
    passed = []
    for _ in range(limit):
        info = tab(page)
        if info and info["name"] == name and (tag is None or info["tag"] == tag):
            return info
        passed.append(f"{info['tag']} {info['name']!r}" if info else "(nothing)")
    raise AssertionError(f"Tab never reached {name!r}; it went through:\n" + "\n".join(passed))


def type_here(page: Page, text: str) -> None:
    """Type into the focused element, key by key."""
    page.keyboard.type(text)


def clear_here(page: Page) -> None:
    """Empty the focused text field as a person does: select all, delete."""
    page.keyboard.press("ControlOrMeta+A")
    page.keyboard.press("Backspace")


def skip_link_is_first(page: Page) -> None:
    """On a freshly loaded page where nothing has the focus yet, the first Tab stop is
    "Skip to content", and it is shown (inside the window) while it has the focus."""
    assert focused(page) is None, f"something has the focus already: {focused(page)}"
    info = tab(page)
    assert info and "skip-link" in info["classes"], f"first Tab stop: {info}"
    box = page.locator(".skip-link").bounding_box()
    assert box and box["x"] >= 0 and box["y"] >= 0, f"the skip link is not shown: {box}"


def skip_to_content(page: Page) -> None:
    """The first Tab stop, then Enter: the focus moves to the page's main content."""
    skip_link_is_first(page)
    page.keyboard.press("Enter")
    info = focused(page)
    assert info and info["id"] == "main", f"after the skip link, the focus is on {info}"
