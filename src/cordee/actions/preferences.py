"""A person's posting defaults (visibility, sensitive media, language) and reading preferences."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select, update

from cordee.actions.errors import ValidationFailed
from cordee.db.engine import Database
from cordee.db.tables import Account, User
from cordee.db.tables_personal import Preferences
from cordee.queries.personal import default_preferences

DEFAULT_VISIBILITIES = ("public", "unlisted", "private")
#: Languages the web app speaks (its catalogues): a person's interface language is one of them.
INTERFACE_LANGUAGES = ("en", "fr")
LANGUAGE_RE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")


@dataclass(frozen=True)
class PreferenceChanges:
    """None leaves a preference as it is; ``default_language=""`` clears the default language."""

    default_visibility: str | None = None
    default_sensitive: bool | None = None
    default_language: str | None = None
    #: The language of the web app's pages (and of e-mails) for this person (``users.locale``).
    interface_language: str | None = None


def check_preferences(changes: PreferenceChanges) -> None:
    """Refuse invalid values (422) before anything is written."""
    if changes.default_visibility is not None and changes.default_visibility not in DEFAULT_VISIBILITIES:
        raise ValidationFailed(
            f"Validation failed: Default privacy must be one of {', '.join(DEFAULT_VISIBILITIES)}"
        )
    if changes.default_language and not LANGUAGE_RE.match(changes.default_language):
        raise ValidationFailed("Validation failed: Default language is not a valid ISO 639 code")
    if changes.interface_language is not None and changes.interface_language not in INTERFACE_LANGUAGES:
        raise ValidationFailed(f"Validation failed: Locale must be one of {', '.join(INTERFACE_LANGUAGES)}")


async def update_preferences(db: Database, account_id: int, changes: PreferenceChanges) -> None:
    check_preferences(changes)
    if changes == PreferenceChanges():
        return
    async with db.write() as tx:
        # Changes to one account's preferences queue on its row: the first two cannot both insert.
        await tx.session.execute(select(Account.id).where(Account.id == account_id).with_for_update())
        row = await tx.session.scalar(select(Preferences).where(Preferences.account_id == account_id))
        if row is None:
            row = default_preferences(account_id)
            tx.session.add(row)
        if changes.default_visibility is not None:
            row.default_visibility = changes.default_visibility
        if changes.default_sensitive is not None:
            row.default_sensitive = changes.default_sensitive
        if changes.default_language is not None:
            row.default_language = changes.default_language or None
        if changes.interface_language is not None:
            await tx.session.execute(
                update(User).where(User.account_id == account_id).values(locale=changes.interface_language)
            )
