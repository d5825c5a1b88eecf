"""The ``cordee`` command: run the server, migrate the database, manage users and invites.

Every command that changes state calls an action: the CLI is an adapter, like the API.
"""

from __future__ import annotations

import asyncio
import getpass
import os
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import click
from sqlalchemy import select

from cordee import __version__
from cordee.actions import accounts as account_actions
from cordee.actions.audit import KINDS as audit_kinds
from cordee.actions.errors import ActionError, NotFound
from cordee.config import ConfigError, Settings, load_settings, masked_url, without_passwords
from cordee.db.change_log import ChangeLog
from cordee.db.engine import Database
from cordee.db.id_workers import WorkerLease
from cordee.db.migrate import upgrade
from cordee.db.tables import Account, User
from cordee.domain.passwords import INSECURE_FAST_HASHING, INSECURE_FAST_HASHING_VARIABLE
from cordee.events.redis import RedisBus
from cordee.http_limits import MAX_WEBSOCKET_MESSAGE
from cordee.queries.audit import AuditLine, local_user_id, recent_events
from cordee.queries.reports import recent_reports
from cordee.redis_client import connect as connect_redis
from cordee.search.index import merge_segments

T = TypeVar("T")

#: How long open requests may take to finish once the server is asked to stop.
GRACEFUL_SHUTDOWN_SECONDS = 10


def _settings() -> Settings:
    try:
        return load_settings()
    except ConfigError as e:
        raise click.ClickException(str(e)) from None


def _shown_database(settings: Settings) -> str:
    """The database, as ``cordee serve`` prints it: a SQLite file's path, or the URL without its
    password (finding 10 of the hardening issue: it used to be printed whole)."""
    url = settings.effective_database_url
    return url.split("///", 1)[-1] if url.startswith("sqlite") else masked_url(url)


def _upgrade(settings: Settings) -> None:
    """Migrate the database; a database that cannot be reached is a one-line error without the
    password, rather than a traceback."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    try:
        upgrade(settings.effective_database_url)
    except Exception as e:
        reason = without_passwords(f"{type(e).__name__}: {e}", settings.effective_database_url)
        raise click.ClickException(
            f"The database {_shown_database(settings)} cannot be opened ({reason.splitlines()[0]})"
        ) from None


def _with_db(work: Callable[[Database, Settings], Awaitable[T]]) -> T:
    """Run ``work`` against a migrated database; action errors become readable CLI errors."""
    settings = _settings()
    _upgrade(settings)

    async def run() -> T:
        # With Redis, what a command changes is published to the running servers (a disabled user's
        # or a new password's revoked tokens close their open streams at once).
        redis = connect_redis(settings.redis_url) if settings.redis_url else None
        bus = RedisBus(redis, f"{settings.redis_prefix}events") if redis is not None else None
        # And the servers' caches forget what a command changed before it says it is done.
        change_log = (
            ChangeLog(redis, settings.redis_prefix, bus.channel)
            if redis is not None and bus is not None
            else None
        )
        db = Database(settings.effective_database_url, bus=bus, change_log=change_log)
        # Commands write beside running servers: their ids need a worker number of their own.
        lease = WorkerLease(db)
        try:
            await lease.start()
            return await work(db, settings)
        finally:
            await lease.stop()
            await db.dispose()
            if redis is not None:
                await redis.aclose()

    try:
        return asyncio.run(run())
    except ActionError as e:
        details = getattr(e, "details", None)
        if details:
            raise click.ClickException(
                "; ".join(f"{field} {message}" for field, (_, message) in details.items())
            ) from None
        raise click.ClickException(e.message) from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cordee")
def main() -> None:
    """Cordée: a self-hosted microblogging server that Mastodon apps can use.

    Settings come from CORDEE_* environment variables (see the README): CORDEE_BASE_URL,
    CORDEE_DATA_DIR, CORDEE_DATABASE_URL, CORDEE_REGISTRATION_MODE, CORDEE_MAX_CHARACTERS…
    """


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
@click.option("--workers", default=1, show_default=True, type=int, help="Server processes (PostgreSQL only).")
@click.option(
    "--server",
    "http_server",
    type=click.Choice(["uvicorn", "granian"]),
    default="uvicorn",
    show_default=True,
    envvar="CORDEE_SERVER",
    help="The HTTP server: granian answers reads faster (docs/benchmarks.md), but reads a "
    "WebSocket message whole (up to 16 MiB) before Cordée can refuse it (over 64 KiB).",
)
def serve(host: str, port: int, workers: int, http_server: str) -> None:
    """Start the server (creates and migrates the database on first run)."""
    if not os.environ.get("CORDEE_BASE_URL"):
        # Without an explicit public URL, the address we listen on is the one people will open.
        shown_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
        os.environ["CORDEE_BASE_URL"] = f"http://{shown_host}:{port}"
    settings = _settings()
    if workers > 1 and not settings.effective_database_url.startswith("postgresql"):
        raise click.ClickException(
            "--workers > 1 needs PostgreSQL (CORDEE_DATABASE_URL): SQLite has one writer"
        )
    if workers > 1 and not settings.redis_url:
        raise click.ClickException(
            "--workers > 1 needs Redis (CORDEE_REDIS_URL): streams must hear of every worker's changes"
        )
    _upgrade(settings)
    click.echo(f"Cordée {__version__} on {_shown_database(settings)}")
    click.echo(f"Open {settings.base_url}/ in your browser, or point any Mastodon app at it.")
    if INSECURE_FAST_HASHING:
        click.echo(
            f"WARNING: {INSECURE_FAST_HASHING_VARIABLE}=1: passwords are hashed with test parameters "
            "that anyone can crack. Never set it outside a test suite.",
            err=True,
        )
    if http_server == "granian":
        _serve_on_granian(host, port, workers, access_log=settings.access_log)
        return
    import uvicorn

    uvicorn.run(
        "cordee.asgi:app",
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        log_level="info",
        access_log=settings.access_log,
        loop="uvloop",
        http="httptools",
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        # Stream (un)subscriptions are a few dozen bytes; uvicorn's default takes 16 MiB messages.
        ws_max_size=MAX_WEBSOCKET_MESSAGE,
        # The sans-I/O protocol of ``websockets``, not its legacy asyncio one (uvicorn's "auto"): a
        # frame written costs less of the event loop, which posts share with the streams. Measured
        # (``bench.streaming``, 10 → 1,000 streams, three pairs): a post's p50 1.24–1.35× against
        # 1.42–1.60×, the server's CPU 0.23–0.25 of a core against 0.26–0.34, post → stream p99
        # ~30 ms against 34–44.
        ws="websockets-sansio",
    )


def _serve_on_granian(host: str, port: int, workers: int, *, access_log: bool) -> None:
    """The same application on granian (its HTTP in Rust), set as uvicorn is above: uvloop, the
    proxy headers of a proxy on loopback (``cordee.asgi:behind_proxy``), the access log as
    configured, 10 s for open requests to finish on shutdown. Granian has no WebSocket message
    cap: its frames go up to 16 MiB, and Cordée closes a stream sent a bigger message than
    ``MAX_WEBSOCKET_MESSAGE`` once it has it (``streaming/endpoints.py``)."""
    from granian import Granian
    from granian.constants import Interfaces, Loops
    from granian.log import LogLevels

    Granian(
        "cordee.asgi:behind_proxy",
        address=host,
        port=port,
        interface=Interfaces.ASGI,
        workers=workers,
        loop=Loops.uvloop,
        log_level=LogLevels.info,
        log_access=access_log,
        workers_kill_timeout=GRACEFUL_SHUTDOWN_SECONDS,
    ).serve()


@main.group()
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration."""
    settings = _settings()
    _upgrade(settings)
    click.echo("The database is up to date.")


@db.command("optimize-search")
def db_optimize_search() -> None:
    """Merge the search index (SQLite; now and then, e.g. nightly): faster narrowed searches."""

    async def work(database: Database, settings: Settings) -> bool:
        async with database.write() as tx:
            return await merge_segments(tx)

    if _with_db(work):
        click.echo("The search index is merged.")
    else:
        click.echo("Nothing to do on PostgreSQL: autovacuum keeps its search indexes.")


@main.group()
def user() -> None:
    """Manage local users."""


@user.command("create")
@click.argument("username")
@click.option("--email", required=True, help="The user's e-mail address (used to sign in).")
@click.option("--password", help="Leave out to be asked for it (it is not echoed).")
@click.option("--admin", is_flag=True, help="Make the user an administrator.")
@click.option(
    "--locale",
    type=click.Choice(["en", "fr"]),
    default="en",
    show_default=True,
    help="Language of the pages.",
)
def user_create(username: str, email: str, password: str | None, admin: bool, locale: str) -> None:
    """Create a local user (registration mode does not apply)."""
    if password is None:
        password = getpass.getpass("Password: ")
    reg = account_actions.Registration(username, email, password, locale=locale)
    _with_db(lambda db, s: account_actions.create_local_account(db, s, reg, enforce_mode=False, admin=admin))
    click.echo(f"Created @{username}{' (admin)' if admin else ''}.")


@user.command("list")
def user_list() -> None:
    """List local users."""

    async def rows(db: Database, _: Settings) -> list[Any]:
        async with db.read() as session:
            result = await session.execute(
                select(
                    Account.username, User.email, User.admin, User.approved, User.disabled, User.created_at
                )
                .join(User, User.account_id == Account.id)
                .order_by(User.id)
            )
            return list(result.all())

    found = _with_db(rows)
    if not found:
        click.echo("No users yet. Create one with: cordee user create NAME --email ADDRESS")
        return
    click.echo(f"{'username':<20} {'email':<32} {'state':<18} created")
    for username, email, admin, approved, disabled, created in found:
        state = (
            "disabled" if disabled else "pending approval" if not approved else "admin" if admin else "active"
        )
        click.echo(f"{username:<20} {email:<32} {state:<18} {created:%Y-%m-%d}")


def _flag_command(name: str, help_text: str, **flags: Any) -> None:
    @user.command(name, help=help_text)
    @click.argument("username")
    def command(username: str) -> None:
        _with_db(lambda db, _: account_actions.set_user_flags(db, username, **flags))
        click.echo(f"@{username}: done.")


_flag_command("approve", "Approve a pending registration.", approved=True)
_flag_command("disable", "Stop a user from signing in (their tokens stop working).", disabled=True)
_flag_command("enable", "Let a disabled user sign in again.", disabled=False)
_flag_command("promote", "Make a user an administrator.", admin=True)
_flag_command("demote", "Remove administrator rights.", admin=False)


@user.command("set-password")
@click.argument("username")
def user_set_password(username: str) -> None:
    """Set a new password for a user (asked for, not echoed)."""
    password = getpass.getpass("New password: ")
    _with_db(lambda db, _: account_actions.set_user_flags(db, username, password=password))
    click.echo(f"@{username}: password changed.")


@main.group()
def invite() -> None:
    """Invitations (for CORDEE_REGISTRATION_MODE=invite)."""


@invite.command("create")
@click.option(
    "--max-uses", type=click.IntRange(min=1), help="How many sign-ups it allows (default: unlimited)."
)
def invite_create(max_uses: int | None) -> None:
    """Create an invitation code."""
    code = _with_db(lambda db, _: account_actions.create_invite(db, max_uses))
    click.echo(code)


@main.group()
def report() -> None:
    """Reports filed by users (POST /api/v1/reports), for moderation."""


@report.command("list")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(min=1), help="How many to show.")
def report_list(limit: int) -> None:
    """List the newest reports."""

    async def rows(db: Database, _: Settings) -> list[Any]:
        async with db.read() as session:
            return list(await recent_reports(session, limit))

    found = _with_db(rows)
    if not found:
        click.echo("No reports.")
        return
    for r in found:
        click.echo(
            f"{r.id}  {r.created_at:%Y-%m-%d %H:%M}  @{r.reporter} reported @{r.target} ({r.category}, "
            f"{r.status_count} statuses){': ' + r.comment if r.comment else ''}"
        )


@main.command("audit")
@click.option("--user", "username", help="Only the events about this local user.")
@click.option("--kind", type=click.Choice(sorted(audit_kinds)), help="Only the events of this kind.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(min=1), help="How many to show.")
def audit_list(username: str | None, kind: str | None, limit: int) -> None:
    """Show the newest security events: sign-ins, failed sign-ins, two-factor changes, token
    revocations, password changes, administrators' actions (newest first)."""

    async def rows(db: Database, _: Settings) -> list[AuditLine]:
        async with db.read() as session:
            user_id = None
            if username is not None:
                user_id = await local_user_id(session, username)
                if user_id is None:
                    raise NotFound(f"No local user named {username!r}")
            return await recent_events(session, limit=limit, user_id=user_id, kind=kind)

    found = _with_db(rows)
    if not found:
        click.echo("No events.")
        return
    click.echo(f"{'time (UTC)':<19}  {'kind':<26} {'user':<20} {'actor':<10} {'ip':<16} detail")
    for e in found:
        who = f"@{e.username}" if e.username else (f"#{e.user_id}" if e.user_id is not None else "-")
        detail = "" if e.detail == "{}" else e.detail
        click.echo(
            f"{e.created_at:%Y-%m-%d %H:%M:%S}  {e.kind:<26} {who:<20} {e.actor or '-':<10} "
            f"{e.ip or '-':<16} {detail}"
        )


@main.group()
def raffle() -> None:
    """Campaign raffles."""


@raffle.command("verify")
@click.option("--seed", required=True, help="The seed the organiser revealed at the draw.")
@click.option("--tickets", required=True, type=click.IntRange(min=0), help="How many tickets were sold.")
@click.option("--prizes", required=True, type=click.IntRange(min=1), help="How many prizes were drawn.")
@click.option("--commitment", help="The SHA-256 published before the sales, to check against the seed.")
def raffle_verify(seed: str, tickets: int, prizes: int, commitment: str | None) -> None:
    """Re-run a raffle draw from its published seed (no server, no database): prints the winning
    ticket numbers, first prize first (the algorithm: cordee/domain/raffle.py)."""
    from cordee.domain import raffle as rules

    if commitment is not None and not rules.seed_matches(seed, commitment.strip().lower()):
        raise click.ClickException("the seed does not match the commitment")
    if commitment is not None:
        click.echo("commitment: matches the seed")
    click.echo("winners: " + ", ".join(str(n) for n in rules.winners(seed, tickets, prizes)))


if __name__ == "__main__":
    main()
