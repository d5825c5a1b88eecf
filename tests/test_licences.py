"""No distribution that Cordée (AGPL-3.0-or-later) needs at run time is licensed GPLv2-only: that
licence forbids the combination (issue 11: vaderSentiment-fr pulled in fuzzywuzzy). The runtime
dependencies of pyproject.toml are walked recursively through the installed distributions' metadata
(the editable install's own metadata can be older than pyproject.toml)."""

from __future__ import annotations

import importlib.metadata as md
import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
# "GPLv2", "GPL-2.0", "GPL-2.0-only", "GNU GPL v2", but not "GPLv2+", "GPL-2.0-or-later", "LGPL…".
GPL2_ONLY = re.compile(r"(?<![LA])GPL[ -]?v?2(\.0)?(?!\.\d|\+|[- ]or[- ]later)(-only)?\b", re.IGNORECASE)
GPL2_ONLY_CLASSIFIER = "License :: OSI Approved :: GNU General Public License v2 (GPLv2)"


def _runtime_closure() -> dict[str, md.Distribution]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    todo = [Requirement(r) for r in project["dependencies"]]
    seen: dict[str, md.Distribution] = {}
    while todo:
        req = todo.pop()
        name = canonicalize_name(req.name)
        if name in seen:
            continue
        seen[name] = dist = md.distribution(req.name)
        for text in dist.requires or []:
            sub = Requirement(text)
            # Markers of optional extras are followed only for the extras asked for ("uvicorn[standard]").
            if sub.marker is None or any(sub.marker.evaluate({"extra": e}) for e in req.extras or {""}):
                todo.append(sub)
    return seen


def _gpl2_only(dist: md.Distribution) -> bool:
    meta = dist.metadata
    # The License field sometimes holds the whole licence text: its first line names it.
    licence = f"{meta.get('License-Expression') or ''} {(meta.get('License') or '').partition(chr(10))[0]}"
    return bool(GPL2_ONLY.search(licence)) or GPL2_ONLY_CLASSIFIER in (meta.get_all("Classifier") or [])


def test_the_licence_check_sees_gpl2_only() -> None:
    for text in ("GPLv2", "GPL-2.0-only", "GPL v2", "GPL-2.0"):
        assert GPL2_ONLY.search(text), text
    for text in ("GPLv2+", "GPL-2.0-or-later", "LGPL-2.1", "GPLv3", "AGPL-3.0-or-later", "MIT", "GPL"):
        assert not GPL2_ONLY.search(text), text


def test_no_runtime_dependency_is_gpl2_only() -> None:
    closure = _runtime_closure()
    assert {"vadersentiment", "starlette", "pystemmer"} <= closure.keys()
    assert not {"fuzzywuzzy", "vadersentiment-fr"} & closure.keys()
    offending = sorted(name for name, dist in closure.items() if _gpl2_only(dist))
    assert offending == []
