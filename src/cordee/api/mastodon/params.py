"""Request parameters the way Mastodon accepts them: query string, form, multipart or JSON, with
arrays written ``key[]=a&key[]=b`` (forms) or as JSON lists. Numbers and booleans are coerced as
Mastodon's Rails does (``to_i``, ``ActiveModel::Type::Boolean``): ``limit=0.5`` is 0, ``local=AAA``
is true; only whole numbers past 64 bits are refused (the database could not take them).

Text must be Unicode: a query string or form with invalid UTF-8 is refused (400, as Rails does),
and so is a JSON string holding a lone surrogate (``"\\ud800"``: 422, as Mastodon does) rather
than cleaned up behind the writer's back; such text could not be stored anyway. JSON is parsed by
orjson, which also refuses documents nested more than 1,024 deep (the standard library's parser
recursed until a RecursionError, a 500)."""

from __future__ import annotations

import builtins
import math
import re
from typing import Any
from urllib.parse import unquote_to_bytes

import orjson
from starlette.datastructures import UploadFile
from starlette.requests import Request

from cordee.api.mastodon.errors import ApiError
from cordee.http_limits import BodyTooLarge

#: A percent-escape of a byte outside ASCII: only then can an escaped text be invalid UTF-8.
_ESCAPED_HIGH_BYTE = re.compile(rb"%[89a-fA-F][0-9a-fA-F]")

#: The texts that mean false (Rails' list, and "no"); any other text is true, as Rails casts it.
FALSE = {"false", "0", "off", "no", "f", ""}
#: What Ruby's ``String#to_i`` reads: leading blanks, a sign, ASCII digits (underscores between).
_RUBY_INT = re.compile(r"\s*([+-]?)0*(\d+(?:_\d+)*)", re.ASCII)


class Params:
    def __init__(
        self, values: dict[builtins.str, builtins.list[Any]], uploads: builtins.list[UploadFile] | None = None
    ) -> None:
        self._values = values
        self._uploads = uploads or []

    @classmethod
    async def from_request(cls, request: Request) -> Params:
        values: dict[builtins.str, builtins.list[Any]] = {}

        def add(key: builtins.str, value: Any) -> None:
            values.setdefault(key.removesuffix("[]"), []).append(value)

        query = request.scope["query_string"]
        if query:
            _check_utf8(query, "query string")
            for key, value in request.query_params.multi_items():
                add(key, value)
        if request.method in ("POST", "PUT", "PATCH", "DELETE"):
            ctype = request.headers.get("content-type", "").partition(";")[0].strip().lower()
            if ctype == "application/json":
                body = await request.body()
                if body.strip():
                    data = _parse_json(body)
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
                if ctype == "application/x-www-form-urlencoded":
                    _check_utf8(await request.body(), "form")  # read once: form() reuses it
                try:
                    form = await request.form()
                except BodyTooLarge:
                    raise
                except Exception as e:  # python-multipart errors: malformed body
                    raise ApiError(400, f"The form body could not be read: {e}") from None
                uploads = [f for _, f in form.multi_items() if isinstance(f, UploadFile)]
                for key, field in form.multi_items():
                    add(key, field)
                return cls(values, uploads)
        return cls(values)

    async def close(self) -> None:
        """Close the uploaded files (their temporary files), whatever the handler did with them."""
        for upload in self._uploads:
            await upload.close()

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
        return str(value).strip().lower() not in FALSE

    def int(self, name: builtins.str, default: builtins.int | None = None) -> builtins.int | None:
        value = self.raw(name)
        if value is None or value == "":
            return default
        if isinstance(value, (bool, UploadFile, dict, list)):
            raise ApiError(422, f"Validation failed: {name} must be a whole number")
        if isinstance(value, float):  # a JSON number: Ruby's Float#to_i truncates
            if not math.isfinite(value):
                raise ApiError(422, f"Validation failed: {name} must be a whole number")
            number = int(value)
        elif isinstance(value, int):
            number = value
        else:  # text: its leading whole number, else 0 ("0.5" and "AAA" are 0, as in Mastodon)
            match = _RUBY_INT.match(str(value))
            digits = match.group(2).replace("_", "") if match else "0"
            if len(digits) > 20:  # past 64 bits, whatever follows: no megabyte of digits converted
                raise ApiError(422, f"Validation failed: {name} must be a whole number within 64 bits")
            number = int((match.group(1) if match else "") + digits)
        # Every whole number ends up in SQL (a limit, an offset, a duration): past 64 bits the
        # database refuses it, so it is refused here, clearly.
        if not -(1 << 63) <= number < 1 << 63:
            raise ApiError(422, f"Validation failed: {name} must be a whole number within 64 bits")
        return number

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


def _check_utf8(raw: bytes, what: str) -> None:
    """Refuse a URL-encoded query or form whose text is not UTF-8 (Starlette would silently
    replace the bad bytes). Nearly every request is plain ASCII and costs two scans in C."""
    if raw.isascii() and _ESCAPED_HIGH_BYTE.search(raw) is None:
        return
    try:
        unquote_to_bytes(raw).decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(400, f"Invalid request parameters: the {what} is not valid UTF-8") from None


def _parse_json(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as e:
        # orjson's messages tell the cases apart (a refusal either way; only the status differs).
        if "not valid UTF-8" in str(e):
            raise ApiError(400, "Invalid request parameters: the body is not valid UTF-8") from None
        if "surrogate" in str(e):  # an escaped lone surrogate, "\\ud800"
            raise ApiError(422, "Validation failed: text must be valid Unicode (a lone surrogate)") from None
        if "depth" in str(e):
            raise ApiError(400, "The request body is nested too deeply") from None
        raise ApiError(400, "The request body is not valid JSON") from None


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
