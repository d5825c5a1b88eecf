"""Errors actions raise; adapters turn them into HTTP statuses, form messages or CLI errors."""

from __future__ import annotations


class ActionError(Exception):
    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ValidationFailed(ActionError):
    """The input breaks a rule (too long, bad value…): HTTP 422."""

    status = 422


class NotFound(ActionError):
    """Missing, or not visible to the actor: the same answer for both, so nothing leaks."""

    status = 404

    def __init__(self, message: str = "Record not found") -> None:
        super().__init__(message)


class Forbidden(ActionError):
    status = 403
