"""What the compose box sends besides its text: a poll, a time to publish it later, and up to four
images each with its alt text. Read from the form here; checked with the actions' own rules
(``check_poll``, ``check_scheduled_at``, ``check_media_ids``) before anything is stored; images
stored through ``actions.media.upload_media`` and removed again if the note is then refused."""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request

from cordee.actions import media as media_actions
from cordee.actions.errors import ActionError
from cordee.actions.media import MAX_ATTACHMENTS
from cordee.actions.polls import MAX_OPTIONS, NewPoll
from cordee.web.i18n import N_
from cordee.web.render import SignedIn, db_of, gettext, settings_of
from cordee.web.render import field as form_field

#: The poll durations offered (seconds, label): Mastodon's web app offers the same choices.
POLL_DURATIONS = (
    (300, N_("5 minutes")),
    (1800, N_("30 minutes")),
    (3600, N_("1 hour")),
    (21600, N_("6 hours")),
    (86400, N_("1 day")),
    (259200, N_("3 days")),
    (604800, N_("7 days")),
)
DEFAULT_POLL_DURATION = 86400

IMAGE_TOO_LARGE = N_("The image is too large: at most %(max)d MB.")
IMAGE_REFUSED = N_("The image could not be used (%(reason)s). Choose it again, or another one.")
BAD_DATE = N_("The date and time to publish at are not valid: choose them again.")
BAD_DURATION = N_("Choose how long the poll stays open from the list.")
#: The longest alt text kept in the form (the media action applies its own limit).
MAX_DESCRIPTION = 10_000


class Refused(Exception):
    """Bad input in the compose box, with the message to show (already in the reader's language)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class Extras:
    """The poll, schedule and image fields as typed, to show them again after a refusal."""

    poll_options: list[str] = field(default_factory=lambda: [""] * MAX_OPTIONS)
    poll_expires_in: int = DEFAULT_POLL_DURATION
    poll_multiple: bool = False
    scheduled_at: str = ""  # as the datetime-local control sends it: "2026-12-24T18:30"
    timezone: str = "UTC"
    descriptions: list[str] = field(default_factory=lambda: [""] * MAX_ATTACHMENTS)

    @property
    def has_poll(self) -> bool:
        return any(o.strip() for o in self.poll_options)


def read_extras(form: FormData, remembered_zone: str | None) -> Extras:
    extras = Extras(
        poll_options=[form_field(form, f"poll_option_{i}", 500) for i in range(1, MAX_OPTIONS + 1)],
        poll_multiple=form_field(form, "poll_multiple", 10) in ("1", "on", "true"),
        scheduled_at=form_field(form, "scheduled_at", 40).strip(),
        timezone=form_field(form, "timezone", 64).strip() or remembered_zone or "UTC",
        descriptions=[form_field(form, f"description_{i}", MAX_DESCRIPTION) for i in range(1, 5)],
    )
    raw_duration = form_field(form, "poll_expires_in", 12)
    if raw_duration:  # the page always sends one; a bare form client gets the default
        extras.poll_expires_in = (
            int(raw_duration) if raw_duration.isascii() and raw_duration.isdigit() else -1
        )
    return extras


def zone_or_utc(name: str) -> ZoneInfo:
    """The reader's IANA time zone (sent by static/compose.js), UTC when unknown or missing. A
    name is a path in the zone database: a folder ("Europe") or another file raises an OSError or
    a ValueError rather than ZoneInfoNotFoundError (seen as a 500 before)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return ZoneInfo("UTC")


def poll_of(request: Request, extras: Extras) -> NewPoll | None:
    """The poll asked for (None: no option written). ``check_poll`` judges the options."""
    if not extras.has_poll:
        return None
    if extras.poll_expires_in not in {seconds for seconds, _ in POLL_DURATIONS}:
        raise Refused(gettext(request, BAD_DURATION))
    return NewPoll(
        options=tuple(extras.poll_options), expires_in=extras.poll_expires_in, multiple=extras.poll_multiple
    )


def scheduled_at_of(request: Request, extras: Extras) -> datetime | None:
    """The UTC moment to publish at (None: now). The control gives a wall-clock time without a
    zone: it is read in the reader's zone, so "18:30" means 18:30 where they are."""
    if not extras.scheduled_at:
        return None
    try:
        local = datetime.fromisoformat(extras.scheduled_at)
    except ValueError:
        raise Refused(gettext(request, BAD_DATE)) from None
    if local.tzinfo is None:
        local = local.replace(tzinfo=zone_or_utc(extras.timezone))
    try:
        return local.astimezone(UTC)
    except OverflowError:  # the first or last hours of year 1 or 9999, moved out of range
        raise Refused(gettext(request, BAD_DATE)) from None


def uploads(form: FormData) -> list[tuple[int, UploadFile]]:
    """The chosen files, by slot (1 to 4): an empty file input sends a part without a file name."""
    chosen: list[tuple[int, UploadFile]] = []
    for slot in range(1, MAX_ATTACHMENTS + 1):
        value = form.get(f"media_{slot}")
        if isinstance(value, UploadFile) and value.filename:
            chosen.append((slot, value))
    return chosen


async def store_images(
    request: Request, me: SignedIn, extras: Extras, chosen: list[tuple[int, UploadFile]]
) -> tuple[int, ...]:
    """Store the chosen images with their alt texts, in slot order; all or none (an image refused
    removes those already stored). Raises ``Refused``."""
    settings = settings_of(request)
    stored: list[int] = []
    try:
        for slot, upload in chosen:
            data = await upload.read(settings.image_size_limit + 1)
            if not data:
                continue
            if len(data) > settings.image_size_limit:
                max_mb = settings.image_size_limit // 1_000_000
                raise Refused(gettext(request, IMAGE_TOO_LARGE) % {"max": max_mb})
            try:
                media_id = await media_actions.upload_media(
                    db_of(request),
                    settings,
                    me.account.id,
                    data,
                    images=request.app.state.images,
                    description=extras.descriptions[slot - 1].strip() or None,
                )
            except ActionError as e:
                raise Refused(gettext(request, IMAGE_REFUSED) % {"reason": e.message}) from e
            stored.append(media_id)
    except BaseException:
        await forget_images(request, me, stored)
        raise
    return tuple(stored)


async def forget_images(request: Request, me: SignedIn, media_ids: tuple[int, ...] | list[int]) -> None:
    """Remove images stored for a note that was then refused: nothing stays behind on bad input."""
    for media_id in media_ids:
        # Already gone: nothing to do (the periodic clean-up removes any left unattached anyway).
        with suppress(ActionError):
            await media_actions.delete_media(db_of(request), settings_of(request), me.account.id, media_id)
