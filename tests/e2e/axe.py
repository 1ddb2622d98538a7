"""Accessibility checks for a page open in Chromium: axe-core at a phone's and a desk's size, and a walk with
the Tab key. One call per page (`check_page(page, "pay page, open")`); it fails listing every problem found.

axe-core is the npm package pinned in package.json (node_modules/axe-core, installed by `make e2e`). Our pages
send `default-src 'none'`, so a <script> tag (Playwright's add_script_tag) would be refused; `page.evaluate`
runs over the DevTools protocol, which the page's CSP does not govern, so axe is evaluated into the page as it
is served, headers and all (docs/decisions.md, 76).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any, Final

AXE_JS: Final = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
PHONE: Final = {"width": 375, "height": 812}
DESK: Final = {"width": 1280, "height": 800}
FAILING_IMPACTS: Final = ("serious", "critical")

# What a keyboard can reach, in the order the document gives (no page sets a positive tabindex). One radio
# group is one stop: Tab enters the group, the arrow keys move inside it.
_MARK_STOPS: Final = """() => {
  const selector = 'a[href], button:not([disabled]), input:not([type=hidden]):not([disabled]), select:not([disabled]),'
    + ' textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';
  const shown = (el) => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden';
  const stops = [];
  const radios = new Map();
  for (const el of document.querySelectorAll(selector)) {
    if (!shown(el)) continue;
    let stop = stops.length;
    if (el.type === 'radio' && el.name) {
      const key = (el.form ? 'form' + [...document.forms].indexOf(el.form) : 'doc') + ':' + el.name;
      if (radios.has(key)) { stop = radios.get(key); } else { radios.set(key, stop); stops.push(el); }
    } else {
      stops.push(el);
    }
    el.setAttribute('data-a11y-stop', String(stop));
  }
  return stops.map((el) => el.outerHTML.slice(0, 120));
}"""

# Where focus is now, and whether it can be seen there: an outline (not `none`, wider than 0) or a box shadow.
_FOCUSED: Final = """() => {
  const el = document.activeElement;
  if (!el || el === document.body || el === document.documentElement) return null;
  const style = getComputedStyle(el);
  const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
  const shadow = style.boxShadow !== 'none';
  return {
    stop: el.hasAttribute('data-a11y-stop') ? Number(el.getAttribute('data-a11y-stop')) : null,
    html: el.outerHTML.slice(0, 120),
    visible: outline || shadow,
    style: style.outlineStyle + ' ' + style.outlineWidth + ' / ' + style.boxShadow,
  };
}"""


# Focus the document itself: the next Tab goes to the first control, whatever was autofocused.
_TO_THE_TOP: Final = """() => {
  window.scrollTo(0, 0);
  document.body.setAttribute('tabindex', '-1');
  document.body.focus();
  document.body.removeAttribute('tabindex');
}"""


@cache
def axe_source() -> str:
    if not AXE_JS.exists():
        raise AssertionError(f"{AXE_JS} is missing: `make e2e` installs it (npm ci, package.json pins axe-core)")
    return AXE_JS.read_text()


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's violations on the page as it is now (every rule of its default run), each with its impact."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(axe_source())
    results: dict[str, Any] = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    return list(results["violations"])


def serious(violations: list[dict[str, Any]]) -> list[str]:
    """One line per serious or critical violation: its rule, where, and the page that explains the fix."""
    lines = []
    for violation in violations:
        if violation.get("impact") in FAILING_IMPACTS:
            targets = [" ".join(map(str, node["target"])) for node in violation["nodes"]]
            lines.append(
                f"{violation['impact']} {violation['id']}: {violation['help']} at {json.dumps(targets)}"
                f" ({violation['helpUrl']})"
            )
    return lines


def keyboard_problems(page: Any) -> list[str]:
    """Tab from the top of the page round to it again: every control is reached, in document order, and
    each one shows where focus is. The problems found, one a line."""
    stops: list[str] = page.evaluate(_MARK_STOPS)
    page.evaluate(_TO_THE_TOP)
    problems: list[str] = []
    reached: list[int] = []
    for _ in range(len(stops) * 3 + 6):  # a date field takes several Tabs (its day, month and year)
        page.keyboard.press("Tab")
        focused = page.evaluate(_FOCUSED)
        if focused is None:  # past the last control, focus is in the browser's own UI: the next Tab starts over
            continue
        if not focused["visible"]:
            problems.append(f"no visible focus style on {focused['html']} ({focused['style']})")
        stop = focused["stop"]
        if stop is None:
            problems.append(f"focus reached something that is not a control: {focused['html']}")
        elif reached and stop != reached[-1] and stop in reached:
            break  # round once
        elif not reached or stop != reached[-1]:
            reached.append(stop)
    missing = [stops[i] for i in range(len(stops)) if i not in reached]
    if missing:
        problems.append(f"Tab never reached: {missing}")
    if reached != sorted(reached):
        problems.append(f"Tab does not follow the document's order: {reached}")
    return list(dict.fromkeys(problems))


def check_page(page: Any, name: str) -> None:
    """axe-core at a phone's size and a desk's, then the keyboard walk at a desk's; fails naming them all."""
    before = page.viewport_size
    problems = []
    for label, size in (("phone", PHONE), ("desk", DESK)):
        page.set_viewport_size(size)
        problems += [f"[{label}] {line}" for line in serious(axe_violations(page))]
    problems += [f"[keyboard] {line}" for line in keyboard_problems(page)]
    if before:
        page.set_viewport_size(before)
    assert not problems, f"{name} ({page.url}):\n" + "\n".join(problems)
