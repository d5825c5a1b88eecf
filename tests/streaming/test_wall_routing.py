"""The campaign walls in the hub: notes that arrive together (a festival night's burst) are routed
to the walls together, with the same answers as one by one — the widget's rule, the chapter's
moderation, the hidden notes — for a fixed handful of statements, not a handful per note."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import orjson

from cordee.actions import campaigns as campaign_actions
from cordee.actions import wall as wall_actions
from cordee.actions.statuses import NewStatus, post_status
from cordee.config import Settings
from cordee.db.engine import Database
from cordee.events.types import Event
from cordee.streaming.campaigns import wall_channels
from cordee.streaming.connections import Connection
from cordee.streaming.hub import Hub
from cordee.streaming.widget import ANONYMOUS
from tests.api.test_query_counts import counting
from tests.conftest import MakeUser


def _notes(connection: Connection) -> list[tuple[str, int]]:
    """(event, note id) of each note frame queued for a wall, in order."""
    got = []
    while not connection.queue.empty():
        name, _, data = (connection.queue.get_nowait() or "").partition("\ndata: ")
        name = name.removeprefix("event: ")
        if name in ("update", "pending", "status.update"):
            got.append((name, int(orjson.loads(data)["id"])))
    return got


async def _walls(db: Database, make_user: MakeUser, hub: Hub) -> tuple[int, list[int], list[Connection]]:
    owner = await make_user("owner")
    campaign_id = await campaign_actions.create_campaign(
        db, owner.account_id, campaign_actions.NewCampaign("Night", "night", "", 100_000, "EUR")
    )
    chapters, walls = [], []
    for city in ("paris", "lyon"):
        chapter_id = await campaign_actions.propose_chapter(
            db,
            owner.account_id,
            campaign_id,
            campaign_actions.NewChapter(
                city.title(),
                "Hall",
                datetime(2027, 2, 12, 18, tzinfo=UTC),
                "Europe/Paris",
                city,
                "EUR",
                "fr_FR",
            ),
        )
        connection = await hub.connect(ANONYMOUS, "sse")
        for channel in wall_channels(chapter_id, [city, "night"]):
            hub.subscribe(connection, channel)
        chapters.append(chapter_id)
        walls.append(connection)
    return owner.account_id, chapters, walls


async def test_a_burst_reaches_the_walls_in_one_pass_with_the_rules_applied(
    db: Database, settings: Settings, make_user: MakeUser, events: Sequence[Event]
) -> None:
    hub = Hub(db, settings)
    owner, (paris, lyon), (paris_wall, lyon_wall) = await _walls(db, make_user, hub)
    await wall_actions.set_moderation(db, owner, lyon, "before")
    poster = (await make_user("poster")).account_id

    async def posted(text: str, visibility: str = "public") -> int:
        return (await post_status(db, settings, poster, NewStatus(text, visibility=visibility))).id

    costs = []
    for n in (1, 6):
        seen = len(events)
        hidden = await posted("to hide #paris")
        on_paris = [await posted(f"p{i} #paris") for i in range(n)]
        on_lyon = [await posted(f"l{i} #lyon") for i in range(n)]
        both = await posted("both #night")
        await posted("quiet #paris", "unlisted")  # not on any wall: not public
        await posted("elsewhere #rome")
        await wall_actions.hide_from_wall(db, owner, paris, hidden)  # before the hub got to it
        with counting(db) as counter:
            await hub.process(events[seen:])  # every waiting batch at once, as the worker takes them
        costs.append(len(counter.statements))
        assert _notes(paris_wall) == [("update", i) for i in [*on_paris, both]]
        # Moderated before: the organisers' queue gets them as pending, the screen ignores them.
        assert _notes(lyon_wall) == [("pending", i) for i in [*on_lyon, both]]
    assert costs[1] <= costs[0], costs  # 13 notes cost no more than 3 (the first warms a cache)
