"""Live campaign streams (a Cordée extension): a chapter's wall and a campaign's thermometer.

Keys: ``("wall-tag", tag)`` carries new and edited public notes with a wall's hashtags (a wall
subscribes to its chapter's and its campaign's tag), ``("wall", chapter_id)`` the notes hidden
from or approved onto that wall and the chapter's running total, ``("campaign", campaign_id)``
the campaign's total. Which notes go to a wall is the widget's rule for a hashtag
(``queries.widget``), asked once per note, then the chapter's moderation (``actions/wall.py``):
a wall moderated before notes show gets new ones as ``pending`` (its organisers' queue; the
screen ignores them) until one is approved. Amounts are formatted once per language
(the language is part of the stream), by Babel, never in the browser.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cordee.db.tables import Status, StatusTag, Tag
from cordee.db.tables_campaigns import Campaign, Chapter, WallDecision
from cordee.domain.text import normalize_tag
from cordee.events.campaigns import LedgerChanged, WallPostApproved, WallPostHidden
from cordee.queries import campaigns as queries
from cordee.queries.widget import widget_query
from cordee.rendering.money import money, percent
from cordee.rendering.statuses import render_statuses
from cordee.rendering.widget import compact_note
from cordee.streaming.channels import Channel, Key

if TYPE_CHECKING:
    from cordee.streaming.connections import Connection
    from cordee.streaming.hub import Hub


def wall_channels(chapter_id: int, tags: list[str]) -> list[Channel]:
    stream = ("wall", str(chapter_id))
    return [Channel(("wall", chapter_id), stream, "")] + [
        Channel(("wall-tag", normalize_tag(t)), stream, "") for t in tags
    ]


def campaign_channel(campaign_id: int, lang: str) -> Channel:
    return Channel(("campaign", campaign_id), ("campaign", str(campaign_id), lang), "")


def _send(connections: Any, name: str, payload: str) -> None:
    for connection in list(connections):
        connection.send(f"event: {name}\ndata: {payload}\n\n")


async def _compact(hub: Hub, session: Any, status: Status) -> str | None:
    rendered = await render_statuses(session, hub.settings, None, [status])
    return orjson.dumps(compact_note(hub.settings, rendered[0])).decode() if rendered else None


async def on_statuses(hub: Hub, items: list[tuple[Any, str]]) -> None:
    """Public notes posted (``update``) or edited (``status.update``), in the order they came: to the
    walls of their tags — as they are where moderation comes after; as ``pending`` (for the
    organisers' queue) where it comes before, until approved; never where hidden.

    A fixed handful of statements for the whole batch, not per note: on a festival night's burst
    (75 notes/s over 200 walls) routing note by note, ~8 statements each, drained ~25 notes/s on
    PostgreSQL and the walls fell 20 s behind (bench.campaign_night)."""
    wanted: list[tuple[Any, str, list[tuple[Connection, Key]]]] = []
    for event, name in items:
        if event.visibility != "public" or getattr(event, "reblog_of_id", None) is not None:
            continue
        keys: set[Key] = {("wall-tag", normalize_tag(tag)) for tag in event.tags}
        pairs = [(c, key) for key in keys for c in hub.subscribers(key)]
        if pairs:
            wanted.append((event, name, pairs))
    if not wanted:
        return
    ids = list({event.status_id for event, _, _ in wanted})
    tags = sorted({str(key[1]) for _, _, pairs in wanted for _, key in pairs})
    async with hub.db.read() as session:
        # The widget's rule for "any of these tags", then which of those tags each note has: the
        # same answer as asking the rule once per note and tag.
        rule = widget_query(tag=tags[0], any_tags=tuple(tags[1:])).where(Status.id.in_(ids))
        statuses = {s.id: s for s in await session.scalars(rule)}
        if not statuses:
            return
        tagged = await session.execute(
            select(StatusTag.status_id, Tag.name)
            .join(Tag, Tag.id == StatusTag.tag_id)
            .where(StatusTag.status_id.in_(list(statuses)), Tag.name.in_(tags))
        )
        shown = {(status_id, ("wall-tag", name)) for status_id, name in tagged.all()}
        chapter_ids = {
            int(c.streams[k][1])
            for event, _, pairs in wanted
            for c, k in pairs
            if (event.status_id, k) in shown and k in c.streams
        }
        if not chapter_ids:
            return
        modes = dict(
            (
                await session.execute(
                    select(Chapter.id, Chapter.wall_moderation).where(Chapter.id.in_(chapter_ids))
                )
            ).all()
        )
        decisions = {
            (status_id, chapter_id): decision
            for status_id, chapter_id, decision in await session.execute(
                select(WallDecision.status_id, WallDecision.chapter_id, WallDecision.decision).where(
                    WallDecision.status_id.in_(list(statuses)), WallDecision.chapter_id.in_(chapter_ids)
                )
            )
        }
        payloads = await _compacts(hub, session, [statuses[i] for i in sorted(statuses)])
    for event, name, pairs in wanted:
        payload = payloads.get(event.status_id)
        if payload is None:
            continue
        sent: set[int] = set()
        for connection, key in pairs:
            stream = connection.streams.get(key)
            if (event.status_id, key) not in shown or stream is None or id(connection) in sent:
                continue
            chapter_id = int(stream[1])
            decision = decisions.get((event.status_id, chapter_id))
            if decision == "hidden":
                continue
            sent.add(id(connection))  # a note with both tags reaches a wall once
            waiting = modes.get(chapter_id) == "before" and decision != "approved"
            connection.send(f"event: {'pending' if waiting else name}\ndata: {payload}\n\n")


async def _compacts(hub: Hub, session: Any, statuses: list[Status]) -> dict[int, str]:
    """The wall's entity of each note, rendered together."""
    rendered = await render_statuses(session, hub.settings, None, statuses)
    return {int(e["id"]): orjson.dumps(compact_note(hub.settings, e)).decode() for e in rendered}


async def on_hidden(hub: Hub, event: WallPostHidden) -> None:
    _send(hub.subscribers(("wall", event.chapter_id)), "delete", str(event.status_id))


async def on_approved(hub: Hub, event: WallPostApproved) -> None:
    walls = list(hub.subscribers(("wall", event.chapter_id)))
    if not walls:
        return
    async with hub.db.read() as session:
        status = await session.get(Status, event.status_id)
        payload = await _compact(hub, session, status) if status is not None else None
    if payload is not None:
        _send(walls, "update", payload)


async def on_ledger(hub: Hub, event: LedgerChanged) -> None:
    """New money: the campaign's total to its thermometers, the chapter's to its walls."""
    thermometers = list(hub.subscribers(("campaign", event.campaign_id)))
    walls = list(hub.subscribers(("wall", event.chapter_id)))
    if not thermometers and not walls:
        return
    async with hub.db.read() as session:
        campaign = await queries.campaign_by_id(session, event.campaign_id)
        chapter = await queries.chapter_by_id(session, event.chapter_id)
        if campaign is None or chapter is None:
            return
        whole = (await queries.campaign_totals(session, campaign.id)).in_currency(campaign.currency)
        here = (await queries.chapter_totals(session, chapter.id)).in_currency(chapter.currency)
    by_lang: dict[str, str] = {}
    for connection in thermometers:
        stream = connection.streams.get(("campaign", event.campaign_id))
        lang = str(stream[2]) if stream is not None and len(stream) > 2 else "en"
        if lang not in by_lang:
            by_lang[lang] = _campaign_totals(campaign, whole, lang)
        connection.send(f"event: totals\ndata: {by_lang[lang]}\n\n")
    _send(walls, "chapter_totals", _chapter_totals(chapter, here))


def _campaign_totals(campaign: Campaign, whole: int, lang: str) -> str:
    return orjson.dumps(
        {
            "raised_cents": whole,
            "raised": money(whole, campaign.currency, lang),
            "percent": percent(whole, campaign.goal_cents),
        }
    ).decode()


def _chapter_totals(chapter: Chapter, here: int) -> str:
    return orjson.dumps(
        {"raised_cents": here, "raised": money(here, chapter.currency, chapter.locale)}
    ).decode()


async def current_totals(
    session: AsyncSession, campaign: Campaign, chapter: Chapter | None, lang: str
) -> list[str]:
    """The totals as they are, as SSE frames to send first thing on a (re)connected stream: a wall
    or a thermometer cut off while money was recorded is right again at once, not at the next
    entry."""
    whole = (await queries.campaign_totals(session, campaign.id)).in_currency(campaign.currency)
    frames = [f"event: totals\ndata: {_campaign_totals(campaign, whole, lang)}\n\n"]
    if chapter is not None:
        here = (await queries.chapter_totals(session, chapter.id)).in_currency(chapter.currency)
        frames.append(f"event: chapter_totals\ndata: {_chapter_totals(chapter, here)}\n\n")
    return frames
