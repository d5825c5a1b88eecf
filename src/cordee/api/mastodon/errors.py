"""Mastodon-style JSON errors: ``{"error": "..."}`` with the right status code."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response


class ApiError(Exception):
    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.extra = extra


def error_response(
    status: int, message: str, *, headers: dict[str, str] | None = None, **extra: Any
) -> Response:
    body = {"error": message, **extra}
    return Response(orjson.dumps(body), status_code=status, media_type="application/json", headers=headers)
