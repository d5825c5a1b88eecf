"""Creating accounts (registration and the admin CLI) and changing profiles."""

from __future__ import annotations

import asyncio
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from cordee.actions import audit
from cordee.actions.errors import Forbidden, NotFound, ValidationFailed
from cordee.actions.passwords import set_password
from cordee.config import Settings
from cordee.db.engine import Database
from cordee.db.tables import Account, Invite, User
from cordee.db.types import utcnow
from cordee.domain.passwords import MIN_PASSWORD_LENGTH, hash_password
from cordee.events.types import AccountUpdated, TokensRevoked
from cordee.media import profile
from cordee.media.images import MediaRejected, ProcessedImage
from cordee.media.storage import storage_for
from cordee.media.workers import ImageWorkers
from cordee.search import index as search_index

USERNAME_RE = re.compile(r"^[A-Za-z0-9_]{1,30}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
RESERVED_USERNAMES = frozenset({"admin", "root", "api", "oauth", "settings", "about", "tags", "web"})


class RegistrationInvalid(ValidationFailed):
    """A registration form error, per field, in Mastodon's ``details`` shape."""

    def __init__(self, details: dict[str, tuple[str, str]]) -> None:
        first = next(iter(details.items()))
        super().__init__(f"Validation failed: {first[0].capitalize()} {first[1][1]}")
        self.details = details


async def _taken(session: AsyncSession, username: str, email: str) -> dict[str, tuple[str, str]]:
    errors: dict[str, tuple[str, str]] = {}
    account = await session.scalar(
        select(Account.id).where(Account.username_key == username.lower(), Account.domain.is_(None))
    )
    if account is not None:
        errors["username"] = ("ERR_TAKEN", "has already been taken")
    if await session.scalar(select(User.id).where(User.email == email)) is not None:
        errors["email"] = ("ERR_TAKEN", "has already been taken")
    return errors


@dataclass(frozen=True)
class Registration:
    username: str
    email: str
    password: str
    locale: str = "en"
    reason: str = ""
    invite_code: str | None = None


async def create_local_account(
    db: Database,
    settings: Settings,
    reg: Registration,
    *,
    enforce_mode: bool = True,
    admin: bool = False,
) -> tuple[int, int]:
    """Create a local account and its user; returns ``(account_id, user_id)``.

    With ``enforce_mode`` (public registration) the instance's registration mode and e-mail domain
    list apply; the admin CLI passes ``enforce_mode=False``.
    """
    mode = settings.registration_mode
    if enforce_mode and mode == "closed":
        raise Forbidden("Registrations are closed on this instance")
    errors: dict[str, tuple[str, str]] = {}
    if not USERNAME_RE.match(reg.username):
        errors["username"] = ("ERR_INVALID", "must contain only letters, numbers and underscores (max 30)")
    elif reg.username.lower() in RESERVED_USERNAMES:
        errors["username"] = ("ERR_RESERVED", "is reserved")
    email = reg.email.strip().lower()
    if not EMAIL_RE.match(email):
        errors["email"] = ("ERR_INVALID", "is not a valid e-mail address")
    elif (
        enforce_mode
        and settings.allowed_email_domains
        and email.rsplit("@", 1)[1] not in settings.allowed_email_domains
    ):
        errors["email"] = ("ERR_BLOCKED", "is not from a domain allowed to register here")
    if len(reg.password) < MIN_PASSWORD_LENGTH:
        errors["password"] = ("ERR_TOO_SHORT", f"is too short (minimum is {MIN_PASSWORD_LENGTH} characters)")
    if enforce_mode and mode == "invite" and not reg.invite_code:
        errors["invite_code"] = ("ERR_BLANK", "is required: registration is by invitation")
    async with db.read() as session:  # report "taken" together with the other field errors
        errors = {**await _taken(session, reg.username, email), **errors}
    if errors:
        raise RegistrationInvalid(errors)

    # Argon2 is slow on purpose: hash in a thread, before taking the write lock.
    password_hash = await asyncio.to_thread(hash_password, reg.password)
    async with db.write() as tx:
        errors = await _taken(tx.session, reg.username, email)  # again, inside the transaction
        if enforce_mode and mode == "invite":
            invite = await tx.session.scalar(select(Invite).where(Invite.code == reg.invite_code))
            usable = invite is not None and (
                (invite.max_uses is None or invite.uses < invite.max_uses)
                and (invite.expires_at is None or invite.expires_at > utcnow())
            )
            if not usable or invite is None:
                errors["invite_code"] = ("ERR_INVALID", "is not a valid or usable invitation")
            else:
                invite.uses += 1
        if errors:
            raise RegistrationInvalid(errors)
        account = Account(username=reg.username, username_key=reg.username.lower(), domain=None)
        tx.session.add(account)
        await tx.session.flush()
        await search_index.account_written(tx, account.id)
        user = User(
            account_id=account.id,
            email=email,
            password_hash=password_hash,
            approved=not (enforce_mode and mode == "approval"),
            admin=admin,
            locale=reg.locale if reg.locale in ("en", "fr") else "en",
            registration_reason=reg.reason,
            # Public sign-ups confirm their address by following the link mailed to them
            # (``actions/emails.py``); accounts made by an administrator are taken as confirmed.
            email_confirmed_at=None if enforce_mode else utcnow(),
        )
        tx.session.add(user)
        await tx.session.flush()
        return account.id, user.id


@dataclass(frozen=True)
class ProfileChanges:
    display_name: str | None = None
    note: str | None = None
    locked: bool | None = None
    bot: bool | None = None
    discoverable: bool | None = None


#: The account column of each profile image (see ``cordee.media.profile`` for what it holds).
_PICTURE_COLUMNS = {"avatar": Account.avatar_url, "header": Account.header_url}


async def _processed_pictures(
    pictures: Mapping[str, bytes], images: ImageWorkers | None
) -> dict[str, ProcessedImage]:
    done: dict[str, ProcessedImage] = {}
    for kind, data in pictures.items():
        assert kind in _PICTURE_COLUMNS and images is not None
        try:
            done[kind] = await images.process(data, kind, profile.PROFILE_IMAGE_LIMIT)
        except MediaRejected as e:
            raise ValidationFailed(f"Validation failed: {kind.capitalize()}: {e}") from None
    return done


async def update_profile(
    db: Database,
    account_id: int,
    changes: ProfileChanges,
    *,
    pictures: Mapping[str, bytes] | None = None,
    settings: Settings | None = None,
    images: ImageWorkers | None = None,
) -> None:
    """Change the profile's fields and, with ``pictures`` (``"avatar"``/``"header"`` → the uploaded
    file), its images: each is checked and cropped in a capped child process (``images``) before
    anything is written, so a refused file changes nothing. The files replaced are removed after
    the commit; ``AccountUpdated`` makes every process drop its cached copy of the account."""
    if changes.display_name is not None and len(changes.display_name) > 30:
        raise ValidationFailed("Validation failed: Display name is too long (maximum is 30 characters)")
    if changes.note is not None and len(changes.note) > 500:
        raise ValidationFailed("Validation failed: Note is too long (maximum is 500 characters)")
    values: dict[str, object] = {k: v for k, v in vars(changes).items() if v is not None}
    processed = await _processed_pictures(pictures or {}, images)
    storage = storage_for(settings) if settings is not None else None
    stored: list[str] = []
    replaced: list[str] = []
    try:
        for kind, image in processed.items():
            assert storage is not None
            stored.append(await profile.store(storage, account_id, kind, image))
            values[_PICTURE_COLUMNS[kind].key] = stored[-1]
        async with db.write() as tx:
            if processed:
                columns = [_PICTURE_COLUMNS[kind] for kind in processed]
                old = (
                    await tx.session.execute(
                        select(*columns).where(Account.id == account_id).with_for_update()
                    )
                ).one()
                replaced = [value for value in old if value]
            if values:
                await tx.session.execute(update(Account).where(Account.id == account_id).values(**values))
                await search_index.account_written(tx, account_id)
            tx.emit(AccountUpdated(account_id))
    except BaseException:
        if storage is not None:
            for value in stored:
                await profile.remove(storage, value)
        raise
    if storage is not None:
        for value in replaced:
            await profile.remove(storage, value)


async def remove_profile_picture(db: Database, settings: Settings, account_id: int, kind: str) -> None:
    """Back to the default avatar or header (Mastodon's ``DELETE /api/v1/profile/avatar|header``)."""
    column = _PICTURE_COLUMNS[kind]
    async with db.write() as tx:
        old = await tx.session.scalar(select(column).where(Account.id == account_id).with_for_update())
        if old:
            await tx.session.execute(update(Account).where(Account.id == account_id).values({column: ""}))
            tx.emit(AccountUpdated(account_id))
    if old:
        await profile.remove(storage_for(settings), old)


async def set_user_flags(
    db: Database,
    username: str,
    *,
    approved: bool | None = None,
    disabled: bool | None = None,
    admin: bool | None = None,
    password: str | None = None,
    actor: str = "cli",
) -> None:
    """Admin changes to a local user (approve, disable, promote, reset the password). Disabling
    closes the user's open streams on every process; a new password revokes every token and web
    session (``passwords.set_password``)."""
    if password is not None:
        await set_password(db, username, password, actor=actor)
    if approved is None and disabled is None and admin is None:
        return
    async with db.write() as tx:
        user = await tx.session.scalar(
            select(User)
            .join(Account, Account.id == User.account_id)
            .where(Account.username_key == username.lower(), Account.domain.is_(None))
        )
        if user is None:
            raise NotFound(f"No local user named {username!r}")
        changes = {
            k: v
            for k, v in (("approved", approved), ("disabled", disabled), ("admin", admin))
            if v is not None
        }
        for name, value in changes.items():
            setattr(user, name, value)
        audit.record(tx.session, "admin_action", user_id=user.id, actor=actor, changes=changes)
        if disabled:
            # Tokens stay in the database (enabling the user again brings them back) but every
            # request checks the flag; open streams were authorised once, so they are closed.
            tx.emit(TokensRevoked(user_id=user.id))


async def create_invite(db: Database, max_uses: int | None = None) -> str:
    code = secrets.token_urlsafe(12)
    async with db.write() as tx:
        tx.session.add(Invite(code=code, max_uses=max_uses))
    return code
