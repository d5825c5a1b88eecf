"""The streaming hub: every open connection of this process, and the events they should get.

Each batch of events published after a commit is queued (``handle`` never waits on rendering or on
clients) and processed in order by one worker task:

1. the *candidates* of an event are found from the channel registry (the channels whose key the
   note routes to: public, local, its hashtags; every connected home; the lists it may belong to;
   the direct streams of its author and mentioned accounts);
2. the *rule* picks the recipients among them: the database is asked, in one statement per kind
   of surface, which of these connected accounts the surface's own query would show the note to
   (``queries.visibility.viewers_who_see`` over ``home_query``, ``public_query``,
   ``list_timeline_query``, ``visible_to``; notifications through ``notification_shown`` and
   ``visible_to``). There is no second copy of the visibility, block, mute or home rules here: a
   stream delivers exactly what the timeline it mirrors would show (the visibility matrix test
   checks both sides);
3. its payload is rendered once — a note for no reader in particular, the same JSON string for
   every recipient; a notification for its one recipient — framed once per transport and stream
   name, and put in each recipient's bounded queue (``Connection.send``: a full queue closes that
   connection), after the recipient's keyword filters.

Deletes of followers-only and direct notes go only to those who could have seen them (the note
is gone: its author's connected followers and its mentioned accounts); they carry only an id.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import BigInteger, bindparam, select, union
from sqlalchemy.ext.asyncio import AsyncSession

from cordee.api.mastodon.serializers.conversations import render_conversations
from cordee.api.mastodon.serializers.filters import render_filter_result
from cordee.api.mastodon.serializers.notifications import render_notifications
from cordee.config import Settings
from cordee.db.engine import Database
from cordee.db.tables import Follow, Notification, Status, StatusTag
from cordee.db.tables_curation import AccountConversation, ConversationStatus, TagFollow, TimelineList
from cordee.db.types import UTCDateTime, utcnow
from cordee.events.bus import EventBus
from cordee.events.campaigns import LedgerChanged, WallPostApproved, WallPostHidden
from cordee.events.tracking import TrackedMatched
from cordee.events.types import (
    Event,
    NotificationCreated,
    StatusCreated,
    StatusDeleted,
    TokensRevoked,
)
from cordee.queries.filters import ActiveFilter, FilterMatch, active_filters, match
from cordee.queries.lists import list_timeline_query, lists_with_member
from cordee.queries.timelines import home_query, public_query
from cordee.queries.visibility import notification_shown, viewers_who_see, visible_to
from cordee.rendering.statuses import render_statuses
from cordee.streaming import campaigns as campaign_streams
from cordee.streaming import widget as widget_streams
from cordee.streaming.channels import Channel, Key
from cordee.streaming.connections import (
    GOING_AWAY,
    POLICY_VIOLATION,
    SERVICE_RESTART,
    TRY_AGAIN_LATER,
    Connection,
    Transport,
)
from cordee.streaming.frames import Frames, frame
from cordee.streaming.tracked import on_match as on_tracked_match

log = logging.getLogger(__name__)

INBOX_SIZE = 10_000  # event batches waiting for the worker
DRAIN_EVENTS = 500  # events the worker takes together at most (batches already waiting)
#: Turns of the event loop the worker lets pass before it delivers a batch, so that what is ready
#: in them (the answer of the write that sent the events) goes first. Measured on PostgreSQL +
#: Redis at 1,000 streams: 1 turn changed nothing (the hub still began first in 194 of 200 posts),
#: 3 let the answer go first in 172 of 200 and took a POST's p50 from 15.0–16.6 to 10.5–13.0 ms.
REQUESTS_FIRST_TURNS = 3
CHUNK = 1000  # ids per IN (…) when matching connected accounts against follows
PUBLIC_VISIBILITIES = ("public", "unlisted")
#: The filter context of each kind of channel that carries notes.
FILTER_CONTEXTS: dict[object, str] = {"user": "home", "list": "home", "public": "public", "hashtag": "public"}


_STATUS_ID = bindparam("status_id", 0, type_=BigInteger())
_AUTHOR_ID = bindparam("author_id", 0, type_=BigInteger())
_VIEWERS: Any = bindparam("viewers", [], expanding=True, type_=BigInteger())
#: Connected accounts that can have a note in their home at all (``_home_audience``).
_HOME_CANDIDATES = union(
    select(Follow.account_id).where(Follow.target_account_id == _AUTHOR_ID, Follow.account_id.in_(_VIEWERS)),
    select(TagFollow.account_id)
    .join(StatusTag, StatusTag.tag_id == TagFollow.tag_id)
    .where(StatusTag.status_id == _STATUS_ID, TagFollow.account_id.in_(_VIEWERS)),
)
#: Which of them ``home_query`` shows the note to (the timeline's own rule, ``now`` bound).
_HOME_AUDIENCE = viewers_who_see(
    _STATUS_ID,
    _VIEWERS,
    lambda viewer: home_query(viewer, bindparam("now", type_=UTCDateTime()), by_probes=True),
)


class HubClosed(Exception):
    """The server is shutting down: no new streams."""


@dataclass(frozen=True)
class _Note:
    """What routing and filtering need to know about a note."""

    status: Status
    #: The note whose text counts: the reblogged one for a reblog.
    proper: Status
    author_id: int
    original_author_id: int | None
    mentioned: tuple[int, ...]
    entity: dict[str, Any]


def _visible(viewer: Any) -> Any:
    """What a direct stream (``GET /api/v1/conversations``) shows: the notes ``visible_to`` allows."""
    return select(Status).where(visible_to(viewer))


def _chunks(ids: Iterable[int]) -> Iterator[list[int]]:
    values = list(ids)
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


class Hub:
    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = self._db = db
        self.settings = self._settings = settings
        self._subs: dict[Key, set[Connection]] = defaultdict(set)
        self._connections: set[Connection] = set()
        self._filters: dict[int, dict[str, list[ActiveFilter]]] = {}  # account → context → filters
        self._connected: dict[int, int] = defaultdict(int)  # account → open connections
        self._inbox: asyncio.Queue[Sequence[Event]] = asyncio.Queue(INBOX_SIZE)
        self._tasks: list[asyncio.Task[None]] = []
        self._unsubscribe: Callable[[], None] | None = None
        self.draining = False
        self.dropped = 0  # connections closed for being too slow

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self, bus: EventBus) -> None:
        if self._tasks:
            return
        self._unsubscribe = bus.subscribe(self.handle)
        self._tasks = [
            asyncio.create_task(self._work(), name="cordee-hub"),
            asyncio.create_task(self._beat(), name="cordee-hub-heartbeat"),
        ]

    def drain(self) -> None:
        """Refuse new streams and close every open one (clients reconnect to another process, or
        to this one once restarted, and fetch what they missed)."""
        self.draining = True
        for connection in list(self._connections):
            connection.close(GOING_AWAY)

    def reset_streams(self) -> None:
        """Close every open stream but keep accepting new ones: called when this process may have
        missed events (its Redis channel was lost), so clients reconnect and fetch what they missed."""
        for connection in list(self._connections):
            connection.close(SERVICE_RESTART)

    async def stop(self) -> None:
        self.drain()
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    def drain_on_signals(self) -> Callable[[], None]:
        """Start draining as soon as the server is told to stop (SIGTERM, SIGINT), before it waits
        for open connections to finish — streams never finish by themselves. The server's own
        handlers still run. Returns a function that puts the previous handlers back."""
        loop = asyncio.get_running_loop()
        restore: dict[int, Any] = {}
        for sig in (signal.SIGTERM, signal.SIGINT):
            try:
                previous = signal.getsignal(sig)
                if not callable(previous):
                    continue  # not under a server that handles it: leave the default alone

                def handler(signum: int, frame: Any, previous: Callable[[int, Any], Any] = previous) -> None:
                    loop.call_soon_threadsafe(self.drain)
                    previous(signum, frame)

                signal.signal(sig, handler)
                restore[sig] = previous
            except ValueError:  # not the main thread
                continue

        def undo() -> None:
            for sig, previous in restore.items():
                with contextlib.suppress(ValueError):
                    signal.signal(sig, previous)

        return undo

    # -- connections -----------------------------------------------------------------------------

    @property
    def connection_count(self) -> int:
        return len(self._connections)

    async def connect(
        self,
        account_id: int,
        transport: Transport,
        *,
        token_id: int | None = None,
        user_id: int | None = None,
        web_session_id: int | None = None,
    ) -> Connection:
        if self.draining:
            raise HubClosed()
        if account_id not in self._filters:
            async with self._db.read() as session:
                self._filters[account_id] = await self._load_filters(session, account_id)
        connection = Connection(
            account_id,
            transport,
            self._settings.streaming_queue_size,
            token_id=token_id,
            user_id=user_id,
            web_session_id=web_session_id,
        )
        self._connections.add(connection)
        self._connected[account_id] += 1
        return connection

    def subscribe(self, connection: Connection, channel: Channel) -> None:
        connection.streams[channel.key] = channel.stream
        self._subs[channel.key].add(connection)

    def unsubscribe(self, connection: Connection, key: Key) -> None:
        connection.streams.pop(key, None)
        subscribers = self._subs.get(key)
        if subscribers is not None:
            subscribers.discard(connection)
            if not subscribers:
                del self._subs[key]

    def disconnect(self, connection: Connection) -> None:
        if connection not in self._connections:
            return
        if connection.close_code == TRY_AGAIN_LATER:
            self.dropped += 1
        connection.close()
        for key in list(connection.streams):
            self.unsubscribe(connection, key)
        self._connections.discard(connection)
        self._connected[connection.account_id] -= 1
        if self._connected[connection.account_id] <= 0:
            del self._connected[connection.account_id]
            self._filters.pop(connection.account_id, None)

    # -- events ----------------------------------------------------------------------------------

    def connections(self) -> list[Connection]:
        return list(self._connections)

    def subscribers(self, key: Key) -> set[Connection]:
        """The connections listening on ``key`` (an empty set when none)."""
        return self._subs.get(key) or set()

    def open_for(self, account_id: int) -> int:
        """How many connections of this account are open here."""
        return self._connected.get(account_id, 0)

    def close_revoked(
        self, token_ids: Iterable[int] = (), user_ids: Iterable[int] = (), web_session_ids: Iterable[int] = ()
    ) -> int:
        """Close at once the streams opened with these tokens, by these users (revoked, disabled,
        password changed) or with these web sessions (signed out): what is queued and not yet sent
        is dropped with them."""
        tokens, users, sessions = set(token_ids), set(user_ids), set(web_session_ids)
        closed = 0
        for connection in list(self._connections):
            if (
                connection.token_id in tokens
                or connection.user_id in users
                or connection.web_session_id in sessions
            ):
                connection.close(POLICY_VIOLATION)
                closed += 1
        return closed

    async def handle(self, events: Sequence[Event]) -> None:
        """The bus handler: queue the batch and return at once (revocations act before that, so
        nothing queued after them reaches a revoked stream)."""
        if not self._connections:
            return
        for event in events:
            if isinstance(event, TokensRevoked):
                users = () if event.user_id is None else (event.user_id,)
                self.close_revoked(event.token_ids, users, event.web_session_ids)
        try:
            self._inbox.put_nowait(events)
        except asyncio.QueueFull:
            log.warning("streaming hub overloaded: closing every stream (clients will catch up)")
            for connection in list(self._connections):
                connection.close(TRY_AGAIN_LATER)

    async def _work(self) -> None:
        while True:
            # Every batch already waiting is handled with this one, in order: what can be routed
            # for many notes at once (the walls) then is, and a burst drains faster than it came.
            events = list(await self._inbox.get())
            while not self._inbox.empty() and len(events) < DRAIN_EVENTS:
                events += self._inbox.get_nowait()
            # The requests first: a write's answer is ready in the loop's next turns when its
            # events reach the hub (over Redis pub/sub they come back while it waits for its
            # pipeline's reply), and delivering them first — the audience query, a frame to every
            # stream — made it wait (docs/benchmarks.md, "A post's latency and the open streams").
            for _ in range(REQUESTS_FIRST_TURNS):
                await asyncio.sleep(0)
            try:
                await self.process(events)
            except Exception:
                log.exception("streaming hub failed on %r", events)

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(self._settings.streaming_heartbeat_seconds)
            for connection in list(self._connections):
                if connection.transport == "sse":
                    connection.send(":thump\n")

    async def process(self, events: Sequence[Event]) -> None:
        walls: list[tuple[Any, str]] = []  # notes for the campaign walls, routed together
        for event in events:
            if not self._connections:
                return
            if isinstance(event, (LedgerChanged, WallPostHidden, WallPostApproved)) and walls:
                await campaign_streams.on_statuses(self, walls)  # what came before, first
                walls = []
            if isinstance(event, StatusCreated):
                await self._on_status(event, "update")
                await widget_streams.on_status(self, event, "update")
            elif isinstance(event, StatusDeleted):
                await self._on_delete(event)
            elif isinstance(event, NotificationCreated):
                await self._on_notification(event)
            elif event.kind == "status.updated":
                await self._on_status(event, "status.update")
                await widget_streams.on_status(self, event, "status.update")
            elif event.kind == "filters.changed":
                await self._on_filters_changed(getattr(event, "account_id"))  # noqa: B009
            elif isinstance(event, TrackedMatched):
                await on_tracked_match(self, event)
            elif isinstance(event, LedgerChanged):
                await campaign_streams.on_ledger(self, event)
            elif isinstance(event, WallPostHidden):
                await campaign_streams.on_hidden(self, event)
            elif isinstance(event, WallPostApproved):
                await campaign_streams.on_approved(self, event)
            if isinstance(event, StatusCreated) or event.kind == "status.updated":
                walls.append((event, "update" if isinstance(event, StatusCreated) else "status.update"))
        if walls and self._connections:
            await campaign_streams.on_statuses(self, walls)

    def _online(self, kind: str) -> set[int]:
        """Accounts with at least one connection on a per-account channel of this kind."""
        return {key[1] for key in self._subs if key[0] == kind and isinstance(key[1], int)}

    def _pairs(self, keys: Iterable[Key]) -> list[tuple[Connection, Key]]:
        return [(connection, key) for key in keys for connection in self._subs.get(key, ())]

    def _deliver(self, pairs: Iterable[tuple[Connection, Key]], frames: Frames, note: _Note | None) -> None:
        for connection, key in pairs:
            stream = connection.streams.get(key)
            if stream is None:
                continue
            # Who may get the note was decided by the rule (``_admitted``); filters are personal.
            if note is not None and connection.account_id != note.author_id:
                found = self._filter_matches(connection.account_id, FILTER_CONTEXTS.get(key[0]), note)
                if any(m.filter.action == "hide" for m in found):
                    continue
                if found:  # flagged for this recipient: its own payload, with ``filtered`` filled
                    entity = {**note.entity, "filtered": [render_filter_result(m) for m in found]}
                    connection.send(frame(connection.transport, stream, frames.event, _json(entity)))
                    continue
            connection.send(frames.get(connection.transport, stream))

    async def _load_filters(self, session: AsyncSession, account_id: int) -> dict[str, list[ActiveFilter]]:
        return {context: await active_filters(session, account_id, context) for context in ("home", "public")}

    def _filter_matches(self, account_id: int, context: str | None, note: _Note) -> list[FilterMatch]:
        """The recipient's filters (for the channel's context) that the note falls under; one's own
        notes are never filtered."""
        filters = self._filters.get(account_id, {}).get(context or "")
        if not filters or note.proper.account_id == account_id:
            return []
        now = utcnow()
        also = (note.status.id,) if note.proper is not note.status else ()
        return [
            m
            for m in match(filters, note.proper, also)
            if m.filter.expires_at is None or m.filter.expires_at > now
        ]

    # -- notes -----------------------------------------------------------------------------------

    async def _on_status(self, event: Any, name: str) -> None:
        reblog_of_id: int | None = getattr(event, "reblog_of_id", None)
        keys: list[Key] = []
        if event.visibility == "public" and reblog_of_id is None:
            keys += [("public", "all"), ("public", "local" if event.local else "remote")]
            for tag in event.tags:
                keys.append(("hashtag", tag, False))
                if event.local:
                    keys.append(("hashtag", tag, True))
        public_pairs = self._pairs(keys)
        home_online = self._online("user")
        direct_online = self._online("direct") if event.visibility == "direct" else set()
        lists_open = any(key[0] == "list" for key in self._subs)
        if not public_pairs and not home_online and not direct_online and not lists_open:
            return
        async with self._db.read() as session:
            status = await session.get(Status, event.status_id)
            if status is None:
                return  # deleted before we got to it
            original = await session.get(Status, reblog_of_id) if reblog_of_id is not None else None
            if reblog_of_id is not None and original is None:
                return
            mentioned = tuple(event.mentioned_account_ids)
            author_id = status.account_id
            pairs: list[tuple[Connection, Key]] = []
            if public_pairs:
                # The routing keys only say the note is public, local, tagged; whether each
                # recipient's public timeline shows it is the rule's answer.
                admitted = await self._admitted(session, status.id, public_pairs, public_query)
                pairs += [(c, key) for c, key in public_pairs if c.account_id in admitted]
            if home_online:
                audience = await self._home_audience(session, status, home_online)
                pairs += self._pairs(("user", account_id) for account_id in audience)
            if lists_open:
                pairs += self._pairs(await self._list_audience(session, status))
            conversations: set[int] = set()
            if {author_id, *mentioned} & direct_online:
                conversations = await self._seen_by(
                    session, status.id, {author_id, *mentioned} & direct_online, _visible
                )
            if not pairs and not conversations:
                return
            entity = (await render_statuses(session, self._settings, None, [status], any_reader=True))[0]
            original_author_id = original.account_id if original is not None else None
            note = _Note(status, original or status, author_id, original_author_id, mentioned, entity)
            if conversations:
                await self._send_conversations(session, note, entity, conversations)
        self._deliver(pairs, Frames(name, _json(note.entity)), note)

    async def _seen_by(
        self, session: AsyncSession, status_id: int, candidates: set[int], read: Callable[[Any], Any]
    ) -> set[int]:
        """The candidates to whom the read ``read(viewer)`` shows this note (the rule, in SQL)."""
        found: set[int] = set()
        for chunk in _chunks(sorted(candidates)):
            found.update(await session.scalars(viewers_who_see(status_id, chunk, read)))
        return found

    async def _home_audience(self, session: AsyncSession, status: Status, online: set[int]) -> set[int]:
        """The connected accounts whose home timeline shows this note: first those that can have
        it at all (its author, the author's followers, its hashtags' followers: ``home_query``'s
        first condition, read by index), then the rule itself over those only. Both statements
        are built once: building and caching the home rule's statement for every note cost more
        than running it (measured: ~13 ms of CPU a note at 1,000 connected homes)."""
        found: set[int] = set()
        candidates = {status.account_id} & online
        for chunk in _chunks(sorted(online)):
            params = {"author_id": status.account_id, "status_id": status.id, "viewers": chunk}
            candidates.update(await session.scalars(_HOME_CANDIDATES, params))
        for chunk in _chunks(sorted(candidates)):
            params = {"status_id": status.id, "viewers": chunk, "now": utcnow()}
            found.update(await session.scalars(_HOME_AUDIENCE, params))
        return found

    async def _admitted(
        self,
        session: AsyncSession,
        status_id: int,
        pairs: list[tuple[Connection, Key]],
        read: Callable[[Any], Any],
    ) -> set[int]:
        return await self._seen_by(session, status_id, {c.account_id for c, _ in pairs}, read)

    async def _list_audience(self, session: AsyncSession, status: Status) -> list[Key]:
        """The list streams open here whose list shows this note (``list_timeline_query``'s rules)."""
        keys: list[Key] = []
        for list_id in await lists_with_member(session, status.account_id):
            if ("list", list_id) not in self._subs:
                continue
            row = await session.get(TimelineList, list_id)
            if row is not None and await session.scalar(
                list_timeline_query(row).where(Status.id == status.id).with_only_columns(Status.id)
            ):
                keys.append(("list", list_id))
        return keys

    async def _send_conversations(
        self, session: AsyncSession, note: _Note, entity: dict[str, Any], recipients: set[int]
    ) -> None:
        """``conversation`` events on ``direct`` streams: each participant's own view of the
        conversation the note belongs to (its id, unread state and the other participants), as
        ``GET /api/v1/conversations`` shows it."""
        views = await session.scalars(
            select(AccountConversation)
            .join(
                ConversationStatus,
                (ConversationStatus.conversation_id == AccountConversation.conversation_id)
                & (ConversationStatus.participant_key == AccountConversation.participant_key),
            )
            .where(
                ConversationStatus.status_id == note.status.id, AccountConversation.account_id.in_(recipients)
            )
        )
        for view in views:
            [conversation] = await render_conversations(
                session, self._settings, view.account_id, [(view, note.status.id)]
            )
            payload = _json(conversation)
            self._deliver(self._pairs([("direct", view.account_id)]), Frames("conversation", payload), note)

    async def _on_delete(self, event: StatusDeleted) -> None:
        frames = Frames("delete", str(event.status_id))
        if event.visibility in PUBLIC_VISIBILITIES:
            # Anyone may have seen it: every stream that shows notes hears of it.
            keys: list[Key] = [key for key in self._subs if key[0] != "notification"]
            self._deliver(self._pairs(keys), frames, None)
            return
        could_see = {event.account_id, *event.mentioned_account_ids}
        if event.visibility == "private":
            online = self._online("user") - could_see
            if online:
                async with self._db.read() as session:
                    for chunk in _chunks(online):
                        could_see.update(
                            await session.scalars(
                                select(Follow.account_id).where(
                                    Follow.target_account_id == event.account_id, Follow.account_id.in_(chunk)
                                )
                            )
                        )
        keys = [(kind, account_id) for account_id in could_see for kind in ("user", "direct")]
        self._deliver(self._pairs(keys), frames, None)

    # -- notifications and filters ---------------------------------------------------------------

    async def _on_notification(self, event: NotificationCreated) -> None:
        pairs = self._pairs([("user", event.account_id), ("notification", event.account_id)])
        if not pairs:
            return
        async with self._db.read() as session:
            notification = await session.scalar(
                select(Notification).where(
                    Notification.id == event.notification_id,
                    notification_shown(event.account_id, Notification.from_account_id),
                )
            )
            if notification is None:  # gone, or from an account in a block or muted
                return
            rendered = await render_notifications(
                session, self._settings, event.account_id, [notification], filter_context="notifications"
            )
        if rendered:  # a ``hide`` filter leaves it out
            self._deliver(pairs, Frames("notification", _json(rendered[0])), None)

    async def _on_filters_changed(self, account_id: int) -> None:
        if account_id in self._filters:
            async with self._db.read() as session:
                self._filters[account_id] = await self._load_filters(session, account_id)
        self._deliver(self._pairs([("user", account_id)]), Frames("filters_changed", None), None)
