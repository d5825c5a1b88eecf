"""The server process's runtime tuning: ``cordee.asgi`` freezes start-up objects and applies
CORDEE_GC_THRESHOLD (measured effect in docs/benchmarks.md); an empty value keeps Python's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

PROBE = "import gc, json, cordee.asgi; print(json.dumps([gc.get_threshold(), gc.get_freeze_count()]))"


def _probe(tmp_path: Path, **env: str) -> tuple[list[int], int]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CORDEE_")}
    environment.update(CORDEE_DATA_DIR=str(tmp_path / "data"), **env)
    out = subprocess.run(
        [sys.executable, "-c", PROBE], env=environment, capture_output=True, text=True, timeout=60, check=True
    )
    threshold, frozen = json.loads(out.stdout.strip().splitlines()[-1])
    return threshold, frozen


def test_server_collects_less_often_and_freezes_start_up_objects(tmp_path: Path) -> None:
    threshold, frozen = _probe(tmp_path)
    assert threshold == [50_000, 20, 100] and frozen > 10_000
    assert _probe(tmp_path, CORDEE_GC_THRESHOLD="1000,5,5")[0] == [1000, 5, 5]


def test_empty_setting_keeps_python_defaults(tmp_path: Path) -> None:
    threshold, frozen = _probe(tmp_path, CORDEE_GC_THRESHOLD="")
    assert threshold == [700, 10, 10] and frozen == 0
