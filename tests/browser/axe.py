"""Accessibility checks with axe-core (tests/vendor/axe-core/): what a page breaks of WCAG 2.1 A and AA.

axe is evaluated in the page through the DevTools protocol, not added as a <script>: the product's
Content-Security-Policy refuses inline scripts (and one served from elsewhere), and that refusal would fail the
test. The policy stays as it is for the page itself.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

AXE = Path(__file__).resolve().parents[1] / "vendor" / "axe-core" / "axe.min.js"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
FAILING_IMPACTS = {"serious", "critical"}


@cache
def _axe_source() -> str:
    # Evaluated as a script, then `true`: the result of the expression must be something Playwright can return.
    return AXE.read_text(encoding="utf-8") + "\n;true"


def axe_run(page: Page, *, tags: list[str] = WCAG_21_AA) -> dict[str, Any]:
    """axe's results for the page as it is now, checked against the rules of the given tags."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(_axe_source())
    # Colours are measured as they end up: a transition still running (a menu's links fading in) would be
    # measured halfway. Only transitions are awaited: an endless animation (a progress bar's) never finishes.
    return page.evaluate(
        """async (tags) => {
            const transitions = document.getAnimations().filter((animation) => animation instanceof CSSTransition);
            await Promise.all(transitions.map((animation) => animation.finished.catch(() => null)));
            return await window.axe.run(document, {runOnly: {type: 'tag', values: tags}});
        }""",
        tags,
    )


def axe_violations(page: Page, *, impacts: set[str] = FAILING_IMPACTS) -> list[dict[str, Any]]:
    """The page's violations of WCAG 2.1 A and AA of the given impacts, as axe reports them (`id`, `impact`,
    `help`, `helpUrl`, `nodes` with each element's `target` selectors and `failureSummary`)."""
    return [violation for violation in axe_run(page)["violations"] if violation["impact"] in impacts]


def violations_report(violations: list[dict[str, Any]]) -> str:
    """One paragraph per rule: its id, impact and help, then each element's selector and what to fix."""
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']} <{violation['helpUrl']}>")
        for node in violation["nodes"]:
            summary = " ".join(node.get("failureSummary", "").split())
            lines.append(f"    {' '.join(map(str, node['target']))}: {summary}")
    return "\n".join(lines)


def assert_accessible(page: Page, where: str = "") -> None:
    """Fails on any serious or critical violation of WCAG 2.1 A or AA on the page as it is now."""
    violations = axe_violations(page)
    assert not violations, f"Accessibility violations on {where or page.url}:\n{violations_report(violations)}"
