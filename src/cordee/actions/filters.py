"""Filters (v2): a title, the contexts they apply in, an action, an expiry, keywords and statuses.

Every change emits ``FiltersChanged`` so that open streams can tell their client to reload them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import timedelta

from sqlalchemy import delete, func, select

from cordee.actions.errors import NotFound, ValidationFailed
from cordee.db.engine import Database, Tx
from cordee.db.tables import Status
from cordee.db.tables_curation import Filter, FilterKeyword, FilterStatus
from cordee.db.types import utcnow
from cordee.events.types import FiltersChanged
from cordee.queries.filters import ACTIONS, CONTEXTS
from cordee.queries.visibility import visible_to

MAX_TITLE = 256
MAX_KEYWORD = 512
MAX_EXPIRES_IN = 10 * 365 * 24 * 3600


@dataclass(frozen=True)
class KeywordChange:
    """One of ``keywords_attributes``: a new keyword, or (with ``id``) a change to or the removal of one."""

    keyword: str | None = None
    whole_word: bool | None = None
    id: int | None = None
    destroy: bool = False


@dataclass(frozen=True)
class FilterChanges:
    """What to set; ``None`` leaves a field as it is (on create, title and context are required).
    ``expires_in`` counts only when ``set_expiry``: then None means "never"."""

    title: str | None = None
    context: list[str] | None = None
    action: str | None = None
    set_expiry: bool = False
    expires_in: int | None = None
    keywords: list[KeywordChange] = field(default_factory=list)


def _checked_title(title: str) -> str:
    title = title.strip()
    if not title:
        raise ValidationFailed("Validation failed: Title can't be blank")
    if len(title) > MAX_TITLE:
        raise ValidationFailed(f"Validation failed: Title is too long (maximum is {MAX_TITLE} characters)")
    return title


def _checked_context(context: list[str]) -> str:
    if not context:
        raise ValidationFailed("Validation failed: Context can't be blank")
    unknown = sorted(set(context) - set(CONTEXTS))
    if unknown:
        raise ValidationFailed(
            f"Validation failed: Context {', '.join(unknown)} is not one of {', '.join(CONTEXTS)}"
        )
    return " ".join(dict.fromkeys(context))


def _checked_keyword(keyword: str) -> str:
    keyword = keyword.strip()
    if not keyword:
        raise ValidationFailed("Validation failed: Keyword can't be blank")
    if len(keyword) > MAX_KEYWORD:
        raise ValidationFailed(
            f"Validation failed: Keyword is too long (maximum is {MAX_KEYWORD} characters)"
        )
    return keyword


def _apply(row: Filter, changes: FilterChanges) -> None:
    if changes.title is not None:
        row.title = _checked_title(changes.title)
    if changes.context is not None:
        row.context = _checked_context(changes.context)
    if changes.action is not None:
        if changes.action not in ACTIONS:
            raise ValidationFailed(f"Validation failed: Filter action must be one of {', '.join(ACTIONS)}")
        row.action = changes.action
    if changes.set_expiry:
        seconds = changes.expires_in
        if seconds is not None and not (0 < seconds <= MAX_EXPIRES_IN):
            raise ValidationFailed("Validation failed: Expires in must be a positive number of seconds")
        row.expires_at = utcnow() + timedelta(seconds=seconds) if seconds is not None else None


async def _own_filter(tx: Tx, owner_id: int, filter_id: int) -> Filter:
    row = await tx.session.scalar(select(Filter).where(Filter.id == filter_id, Filter.account_id == owner_id))
    if row is None:
        raise NotFound()
    return row


async def _apply_keywords(tx: Tx, row: Filter, changes: list[KeywordChange]) -> None:
    existing = {
        k.id: k
        for k in await tx.session.scalars(select(FilterKeyword).where(FilterKeyword.filter_id == row.id))
    }
    for change in changes:
        if change.id is None:
            if change.destroy:
                continue
            tx.session.add(
                FilterKeyword(
                    filter_id=row.id,
                    keyword=_checked_keyword(change.keyword or ""),
                    whole_word=True if change.whole_word is None else change.whole_word,
                )
            )
            continue
        keyword = existing.get(change.id)
        if keyword is None:
            raise NotFound()
        if change.destroy:
            await tx.session.delete(keyword)
            continue
        if change.keyword is not None:
            keyword.keyword = _checked_keyword(change.keyword)
        if change.whole_word is not None:
            keyword.whole_word = change.whole_word


async def create_filter(db: Database, owner_id: int, changes: FilterChanges) -> int:
    if changes.title is None or changes.context is None:
        raise ValidationFailed("Validation failed: Title and context are required")
    async with db.write() as tx:
        row = Filter(account_id=owner_id, action="warn")
        _apply(row, changes)
        tx.session.add(row)
        await tx.session.flush()
        await _apply_keywords(tx, row, changes.keywords)
        tx.emit(FiltersChanged(owner_id))
        return row.id


async def update_filter(db: Database, owner_id: int, filter_id: int, changes: FilterChanges) -> None:
    async with db.write() as tx:
        row = await _own_filter(tx, owner_id, filter_id)
        _apply(row, changes)
        await _apply_keywords(tx, row, changes.keywords)
        tx.emit(FiltersChanged(owner_id))


async def delete_filter(db: Database, owner_id: int, filter_id: int) -> None:
    async with db.write() as tx:
        row = await _own_filter(tx, owner_id, filter_id)
        await tx.session.delete(row)
        tx.emit(FiltersChanged(owner_id))


async def add_keyword(
    db: Database, owner_id: int, filter_id: int, keyword: str, whole_word: bool | None
) -> int:
    async with db.write() as tx:
        await _own_filter(tx, owner_id, filter_id)
        row = FilterKeyword(
            filter_id=filter_id,
            keyword=_checked_keyword(keyword),
            whole_word=True if whole_word is None else whole_word,
        )
        tx.session.add(row)
        await tx.session.flush()
        tx.emit(FiltersChanged(owner_id))
        return row.id


async def _own_keyword(tx: Tx, owner_id: int, keyword_id: int) -> FilterKeyword:
    row = await tx.session.scalar(
        select(FilterKeyword)
        .join(Filter, Filter.id == FilterKeyword.filter_id)
        .where(FilterKeyword.id == keyword_id, Filter.account_id == owner_id)
    )
    if row is None:
        raise NotFound()
    return row


async def update_keyword(
    db: Database, owner_id: int, keyword_id: int, keyword: str | None, whole_word: bool | None
) -> None:
    async with db.write() as tx:
        row = await _own_keyword(tx, owner_id, keyword_id)
        if keyword is not None:
            row.keyword = _checked_keyword(keyword)
        if whole_word is not None:
            row.whole_word = whole_word
        tx.emit(FiltersChanged(owner_id))


async def delete_keyword(db: Database, owner_id: int, keyword_id: int) -> None:
    async with db.write() as tx:
        await tx.session.delete(await _own_keyword(tx, owner_id, keyword_id))
        tx.emit(FiltersChanged(owner_id))


async def add_status(db: Database, owner_id: int, filter_id: int, status_id: int) -> int:
    """Filter one note (one the owner can see); filtering it twice in one filter is refused."""
    async with db.write() as tx:
        await _own_filter(tx, owner_id, filter_id)
        if (
            await tx.session.scalar(select(Status.id).where(Status.id == status_id, visible_to(owner_id)))
            is None
        ):
            raise NotFound()
        taken = await tx.session.scalar(
            select(FilterStatus.id).where(
                FilterStatus.filter_id == filter_id, FilterStatus.status_id == status_id
            )
        )
        if taken is not None:
            raise ValidationFailed("Validation failed: Status has already been taken")
        row = FilterStatus(filter_id=filter_id, status_id=status_id)
        tx.session.add(row)
        await tx.session.flush()
        tx.emit(FiltersChanged(owner_id))
        return row.id


async def delete_status(db: Database, owner_id: int, filter_status_id: int) -> None:
    async with db.write() as tx:
        owned = select(Filter.id).where(Filter.account_id == owner_id)
        result = await tx.session.execute(
            delete(FilterStatus).where(FilterStatus.id == filter_status_id, FilterStatus.filter_id.in_(owned))
        )
        if not result.rowcount:  # type: ignore[attr-defined]
            raise NotFound()
        tx.emit(FiltersChanged(owner_id))


# --- filters v1: one keyword of a v2 filter (Mastodon's Api::V1::FiltersController) -------------

#: Mastodon's words (``filters.errors.deprecated_api_multiple_keywords``).
V1_SHARED_FILTER = (
    "These parameters cannot be changed from this application because they apply to more than one "
    "filter keyword. Use a more recent application or the web interface."
)


@dataclass(frozen=True)
class V1FilterChanges:
    """A v1 filter's fields; ``None`` leaves one as it is. ``phrase`` is both the keyword and the
    v2 filter's title; ``irreversible`` is the ``hide`` action (else ``warn``)."""

    phrase: str | None = None
    context: list[str] | None = None
    irreversible: bool | None = None
    whole_word: bool | None = None
    set_expiry: bool = False
    expires_in: int | None = None

    def filter_changes(self) -> FilterChanges:
        return FilterChanges(
            title=self.phrase,
            context=self.context,
            action=None if self.irreversible is None else ("hide" if self.irreversible else "warn"),
            set_expiry=self.set_expiry,
            expires_in=self.expires_in,
        )


async def create_v1_filter(db: Database, owner_id: int, changes: V1FilterChanges) -> int:
    """A v2 filter holding one keyword; returns the keyword's id (the v1 filter's id)."""
    async with db.write() as tx:
        row = Filter(account_id=owner_id, action="warn")
        _apply(
            row, replace(changes.filter_changes(), title=changes.phrase or "", context=changes.context or [])
        )
        tx.session.add(row)
        await tx.session.flush()
        keyword = FilterKeyword(
            filter_id=row.id,
            keyword=_checked_keyword(changes.phrase or ""),
            whole_word=True if changes.whole_word is None else changes.whole_word,
        )
        tx.session.add(keyword)
        await tx.session.flush()
        tx.emit(FiltersChanged(owner_id))
        return keyword.id


async def update_v1_filter(db: Database, owner_id: int, keyword_id: int, changes: V1FilterChanges) -> None:
    """Change the keyword, and its filter's fields unless other keywords share that filter."""
    async with db.write() as tx:
        keyword = await _own_keyword(tx, owner_id, keyword_id)
        if changes.phrase is not None:
            keyword.keyword = _checked_keyword(changes.phrase)
        if changes.whole_word is not None:
            keyword.whole_word = changes.whole_word
        row = await _own_filter(tx, owner_id, keyword.filter_id)
        before = (row.title, row.context, row.action, row.expires_at)
        _apply(row, changes.filter_changes())
        if (row.title, row.context, row.action, row.expires_at) != before:
            others = await tx.session.scalar(
                select(func.count())
                .select_from(FilterKeyword)
                .where(FilterKeyword.filter_id == row.id, FilterKeyword.id != keyword.id)
            )
            if others:
                raise ValidationFailed(V1_SHARED_FILTER)
        tx.emit(FiltersChanged(owner_id))
