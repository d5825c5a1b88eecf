"""axe-core for the browser tests: fetched from the npm registry into a cache folder the first time
(never vendored), then injected into a page to measure its accessibility."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

AXE_VERSION = "4.10.3"  # pinned: a new axe release can add rules, and the figures must stay comparable
CACHE = Path(os.environ.get("CORDEE_TEST_CACHE", Path.home() / ".cache" / "cordee-tests")) / "npm"


def axe_source() -> str:
    """The text of axe.min.js, installing ``axe-core@AXE_VERSION`` with npm if it is not cached."""
    script = CACHE / "node_modules" / "axe-core" / "axe.min.js"
    package = CACHE / "node_modules" / "axe-core" / "package.json"
    if not script.exists() or f'"version": "{AXE_VERSION}"' not in package.read_text():
        CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                "npm",
                "install",
                "--no-save",
                "--no-audit",
                "--no-fund",
                "--prefix",
                str(CACHE),
                f"axe-core@{AXE_VERSION}",
            ],
            check=True,
            capture_output=True,
            timeout=180,
        )
    return script.read_text()


def serious_violations(page: Any) -> list[dict[str, Any]]:
    """axe's serious and critical violations on the page as it is now (WCAG 2.x A and AA rules).

    Evaluated through the DevTools protocol, which the page's CSP does not govern: no need to
    weaken the policy (or to let a ``<script>`` in) to measure the page."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(axe_source())
    result = page.evaluate(
        """async () => (await axe.run(document, {runOnly: {type: 'tag',
            values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})).violations"""
    )
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result
        if v["impact"] in ("serious", "critical")
    ]
