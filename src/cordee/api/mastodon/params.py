"""Request parameters the way Mastodon accepts them: query string, form, multipart or JSON, with
arrays written ``key[]=a&key[]=b`` (forms) or as JSON lists, and booleans as true/false/1/0/on."""

from __future__ import annotations

import builtins
import json
import re
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request

from cordee.api.mastodon.errors import ApiError

TRUE = {"true", "1", "on", "yes", "t"}
FALSE = {"false", "0", "off", "no", "f", ""}


class Params:
    def __init__(self, values: dict[builtins.str, builtins.list[Any]]) -> None:
        self._values = values

    @classmethod
    async def from_request(cls, request: Request) -> Params:
        values: dict[builtins.str, builtins.list[Any]] = {}

        def add(key: builtins.str, value: Any) -> None:
            values.setdefault(key.removesuffix("[]"), []).append(value)

        for key, value in request.query_params.multi_items():
            add(key, value)
        if request.method in ("POST", "PUT", "PATCH", "DELETE"):
            ctype = request.headers.get("content-type", "").partition(";")[0].strip().lower()
            if ctype == "application/json":
                body = await request.body()
                if body.strip():
                    try:
                        data = json.loads(body)
                    except ValueError:
                        raise ApiError(400, "The request body is not valid JSON") from None
                    if not isinstance(data, dict):
                        raise ApiError(400, "The JSON body must be an object")
                    for key, value in data.items():
                        if isinstance(value, list):
                            for item in value:
                                add(key, item)
                        else:
                            add(key, value)
                        if isinstance(value, dict):  # {"poll": {"options": […]}} is also poll[options]
                            for sub, item in value.items():
                                for one in item if isinstance(item, list) else [item]:
                                    add(f"{key}[{sub}]", one)
            elif ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
                try:
                    form = await request.form()
                except Exception as e:  # python-multipart errors: malformed body
                    raise ApiError(400, f"The form body could not be read: {e}") from None
                for key, field in form.multi_items():
                    add(key, field)
        return cls(values)

    def __contains__(self, name: builtins.str) -> builtins.bool:
        return name in self._values

    def raw(self, name: builtins.str) -> Any:
        items = self._values.get(name)
        return items[-1] if items else None

    def str(
        self, name: builtins.str, default: builtins.str | None = None, *, max_length: builtins.int = 10_000
    ) -> builtins.str | None:
        value = self.raw(name)
        if value is None:
            return default
        if isinstance(value, (UploadFile, dict, list)):
            raise ApiError(422, f"Validation failed: {name} must be text")
        text = ("true" if value else "false") if isinstance(value, bool) else str(value)
        if len(text) > max_length:
            raise ApiError(422, f"Validation failed: {name} is too long")
        return text

    def required_str(self, name: builtins.str) -> builtins.str:
        value = self.str(name)
        if value is None or value == "":
            raise ApiError(422, f"Validation failed: {name} is missing")
        return value

    def bool(self, name: builtins.str, default: builtins.bool | None = None) -> builtins.bool | None:
        value = self.raw(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in TRUE:
            return True
        if text in FALSE:
            return False
        raise ApiError(422, f"Validation failed: {name} must be true or false")

    def int(self, name: builtins.str, default: builtins.int | None = None) -> builtins.int | None:
        value = self.raw(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            raise ApiError(422, f"Validation failed: {name} must be a whole number")
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ApiError(422, f"Validation failed: {name} must be a whole number") from None

    def id(self, name: builtins.str) -> builtins.int | None:
        """An id parameter (ids are strings of digits in the API)."""
        value = self.raw(name)
        if value is None or value == "":
            return None
        return parse_id(str(value), name)

    def list(self, name: builtins.str) -> builtins.list[builtins.str]:
        return [str(v) for v in self._values.get(name, []) if not isinstance(v, UploadFile)]

    def records(self, name: builtins.str) -> builtins.list[dict[builtins.str, Any]]:
        """An array of objects, the Rails way: JSON ``name: [{…}]`` or ``{"0": {…}}``, or form fields
        ``name[0][field]=…`` or ``name[][field]=…`` (the n-th value of each field makes the n-th object)."""
        found: builtins.list[dict[builtins.str, Any]] = []
        for value in self._values.get(name, []):
            if isinstance(value, dict):
                nested = [v for v in value.values() if isinstance(v, dict)]
                found.extend(nested if nested and len(nested) == len(value) else [value])
        indexed: dict[tuple[builtins.int, builtins.str], dict[builtins.str, Any]] = {}
        pattern = re.compile(re.escape(name) + r"\[(\d*)\]\[(\w+)\]")
        for key, items in self._values.items():
            if (m := pattern.fullmatch(key)) is None:
                continue
            index, field = m.groups()
            if index:
                indexed.setdefault((int(index), ""), {})[field] = items[-1]
            else:
                for position, item in enumerate(items):
                    indexed.setdefault((position, "[]"), {})[field] = item
        return found + [indexed[k] for k in sorted(indexed)]


def id_or_none(value: str) -> int | None:
    """The id that ``value`` spells, or None: ASCII digits only (``str.isdigit`` also takes
    superscripts and other scripts' digits, which ``int`` refuses or reads differently), within the
    64-bit range of snowflake ids. The one place where ids are parsed."""
    if not (value.isascii() and value.isdigit()) or len(value) > 19:
        return None
    number = int(value)
    return number if number < 1 << 63 else None


def parse_id(value: str, what: str = "id") -> int:
    """Parse an id from a path or parameter. Anything that is not a valid id is simply not found."""
    number = id_or_none(value)
    if number is None:
        raise ApiError(404, "Record not found")
    return number
