"""Schemathesis hooks for the fuzz run (loaded with ``SCHEMATHESIS_HOOKS=tests.fuzz.hooks``).

Ids generated from the spec are random strings, so most operations on one resource would only
ever see "Record not found". Half the time, a path parameter is replaced by the id of a real
resource of the right kind, read from ``CORDEE_FUZZ_IDS`` (a JSON object: parameter name or
``<resource>:<parameter>`` → list of ids), so that the handlers behind the 404 are fuzzed too.
"""

from __future__ import annotations

import json
import os
from typing import Any

import schemathesis
from hypothesis import strategies as st

_IDS: dict[str, list[str]] = json.loads(os.environ.get("CORDEE_FUZZ_IDS", "{}"))


def _real(version: str, resource: str, name: str) -> list[str]:
    # Most specific first: "v1/filters:id" (a v1 filter is a keyword), "filters:id", then "id".
    return _IDS.get(f"{version}/{resource}:{name}") or _IDS.get(f"{resource}:{name}") or _IDS.get(name) or []


@schemathesis.hook
def flatmap_path_parameters(context: schemathesis.HookContext, path_parameters: dict[str, Any] | None) -> Any:
    if not path_parameters:
        return st.just(path_parameters)
    operation = context.operation
    parts = operation.path.split("/") if operation is not None else []
    version, resource = (parts[2], parts[3]) if len(parts) > 3 else ("", "")
    choices: dict[str, st.SearchStrategy[Any]] = {}
    for name, generated in path_parameters.items():
        real = _real(version, resource, name)
        choices[name] = st.sampled_from([generated, *real]) if real else st.just(generated)
    return st.fixed_dictionaries(choices)
