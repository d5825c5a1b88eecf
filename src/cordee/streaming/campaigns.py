"""Live campaign streams (a Cordée extension): a chapter's wall and a campaign's thermometer.

Keys: ``("wall-tag", tag)`` carries new and edited public notes with a wall's hashtags (a wall
subscribes to its chapter's and its campaign's tag), ``("wall", chapter_id)`` the notes hidden
from that wall and the chapter's running total, ``("campaign", campaign_id)`` the campaign's
total. Which notes go to a wall is the widget's rule for a hashtag (``queries.widget``), asked
once per note, less what the chapter's organisers hid. Amounts are formatted once per language
(the language is part of the stream), by Babel, never in the browser.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import select

from cordee.db.tables import Status
from cordee.db.tables_campaigns import WallHidden
from cordee.domain.text import normalize_tag
from cordee.events.campaigns import LedgerChanged, WallPostHidden
from cordee.queries import campaigns as queries
from cordee.queries.widget import widget_query
from cordee.rendering.money import money, percent
from cordee.rendering.statuses import render_statuses
from cordee.rendering.widget import compact_note
from cordee.streaming.channels import Channel, Key

if TYPE_CHECKING:
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


async def on_status(hub: Hub, event: Any, name: str) -> None:
    """A public note posted (``update``) or edited (``status.update``): to the walls of its tags."""
    if event.visibility != "public" or getattr(event, "reblog_of_id", None) is not None:
        return
    keys: list[Key] = [("wall-tag", normalize_tag(tag)) for tag in event.tags]
    open_keys = [key for key in keys if hub.subscribers(key)]
    if not open_keys:
        return
    async with hub.db.read() as session:
        status = await session.get(Status, event.status_id)
        if status is None:
            return
        shown = [
            key
            for key in open_keys
            if await session.scalar(
                widget_query(tag=str(key[1])).where(Status.id == status.id).with_only_columns(Status.id)
            )
        ]
        if not shown:
            return
        hidden = set(
            await session.scalars(select(WallHidden.chapter_id).where(WallHidden.status_id == status.id))
        )
        rendered = await render_statuses(session, hub.settings, None, [status])
    if not rendered:
        return
    payload = orjson.dumps(compact_note(hub.settings, rendered[0])).decode()
    sent: set[int] = set()
    for key in shown:
        for connection in list(hub.subscribers(key)):
            stream = connection.streams.get(key)
            if stream is None or id(connection) in sent or int(stream[1]) in hidden:
                continue
            sent.add(id(connection))  # a note with both tags reaches a wall once
            connection.send(f"event: {name}\ndata: {payload}\n\n")


async def on_hidden(hub: Hub, event: WallPostHidden) -> None:
    _send(hub.subscribers(("wall", event.chapter_id)), "delete", str(event.status_id))


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
            by_lang[lang] = orjson.dumps(
                {
                    "raised_cents": whole,
                    "raised": money(whole, campaign.currency, lang),
                    "percent": percent(whole, campaign.goal_cents),
                }
            ).decode()
        connection.send(f"event: totals\ndata: {by_lang[lang]}\n\n")
    chapter_payload = orjson.dumps(
        {"raised_cents": here, "raised": money(here, chapter.currency, chapter.locale)}
    ).decode()
    _send(walls, "chapter_totals", chapter_payload)
