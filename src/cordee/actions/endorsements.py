"""What a person keeps about other accounts: a private note (the relationship's ``note``) and
endorsements (accounts featured on their profile, the relationship's ``endorsed``)."""

from __future__ import annotations

from sqlalchemy import delete, select

from cordee.actions.errors import NotFound, ValidationFailed
from cordee.db.engine import Database, Tx
from cordee.db.tables import Account, Follow
from cordee.db.tables_personal import AccountNote, AccountPin
from cordee.db.types import utcnow

#: Mastodon's limit on a note's length (``AccountNote``).
MAX_NOTE = 2000


async def _existing(tx: Tx, account_id: int) -> None:
    if await tx.session.get(Account, account_id) is None:
        raise NotFound()


async def set_note(db: Database, actor_id: int, target_id: int, comment: str) -> None:
    """Keep ``comment`` about an account; a blank comment removes the note (as in Mastodon)."""
    if len(comment) > MAX_NOTE:
        raise ValidationFailed(f"Validation failed: Comment is too long (maximum is {MAX_NOTE} characters)")
    async with db.write() as tx:
        await _existing(tx, target_id)
        note = await tx.session.scalar(
            select(AccountNote).where(
                AccountNote.account_id == actor_id, AccountNote.target_account_id == target_id
            )
        )
        if not comment.strip():
            if note is not None:
                await tx.session.delete(note)
        elif note is None:
            tx.session.add(AccountNote(account_id=actor_id, target_account_id=target_id, comment=comment))
        elif note.comment != comment:
            note.comment = comment
            note.updated_at = utcnow()


async def endorse(db: Database, actor_id: int, target_id: int) -> None:
    """Feature an account one follows on one's profile (idempotent)."""
    async with db.write() as tx:
        await _existing(tx, target_id)
        following = await tx.session.scalar(
            select(Follow.id).where(Follow.account_id == actor_id, Follow.target_account_id == target_id)
        )
        if following is None:
            # Mastodon's wording (``accounts.pin_errors.following``), on a 422.
            raise ValidationFailed(
                "Validation failed: You must be already following the person you want to endorse"
            )
        already = await tx.session.scalar(
            select(AccountPin.id).where(
                AccountPin.account_id == actor_id, AccountPin.target_account_id == target_id
            )
        )
        if already is None:
            tx.session.add(AccountPin(account_id=actor_id, target_account_id=target_id))


async def unendorse(db: Database, actor_id: int, target_id: int) -> None:
    """Stop featuring an account (idempotent)."""
    async with db.write() as tx:
        await _existing(tx, target_id)
        await tx.session.execute(
            delete(AccountPin).where(
                AccountPin.account_id == actor_id, AccountPin.target_account_id == target_id
            )
        )
