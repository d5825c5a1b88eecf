"""Settings, read from the environment (``CORDEE_*``), with documented defaults.

Every setting has a default that makes ``cordee serve`` work on a fresh machine: an embedded
SQLite database in ``./data``, open registrations, 140-character notes, on http://127.0.0.1:8000.
"""

from __future__ import annotations

import base64
import ipaddress
import os
import re
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from sqlalchemy.engine import make_url

RegistrationMode = Literal["open", "approval", "invite", "closed"]
REGISTRATION_MODES: tuple[RegistrationMode, ...] = ("open", "approval", "invite", "closed")


class ConfigError(ValueError):
    """A setting has a value Cordée cannot use; the message says which and why."""


@dataclass(frozen=True)
class Settings:
    #: Public base URL of the instance (scheme + host [+ port]); links and OAuth use it.
    base_url: str = "http://127.0.0.1:8000"
    #: Where the SQLite database, the secret key and (later) media live.
    data_dir: Path = Path("data")
    #: SQLAlchemy URL; empty means ``sqlite+aiosqlite:///<data_dir>/cordee.sqlite3``. It may hold a
    #: password: never print it, print ``masked_url(...)`` (and so for the replica and Redis).
    database_url: str = field(default="", repr=False)
    #: PostgreSQL only, optional: a read replica for the hot read path (timelines); empty: the primary.
    database_replica_url: str = field(default="", repr=False)
    #: PostgreSQL only: connections each server process keeps open for its transactions; write
    #: transactions beyond this many at once wait for one (``Database._writers_turn``), other
    #: sessions may open 10 more under a burst, and close them after it. Too few and a busy process
    #: opens and closes connections all the time (a PostgreSQL backend each: posts/s 78-90 with 5,
    #: 105-115 with 12-32, docs/benchmarks.md). Mind ``max_connections``: each process holds up to
    #: this + 10, plus 10 for the hot read path.
    database_pool_size: int = 20
    #: Write one line per HTTP request to the log (off by default: it costs ~10 % of a small request).
    access_log: bool = False
    #: open | approval | invite | closed
    registration_mode: RegistrationMode = "open"
    #: If not empty, only e-mail addresses in these domains may register.
    allowed_email_domains: tuple[str, ...] = ()
    #: The note length limit (weighted like Mastodon: a URL counts 23, a mention its local part).
    max_characters: int = 140
    characters_reserved_per_url: int = 23
    #: The largest image upload accepted, in bytes (``CORDEE_IMAGE_SIZE_LIMIT``; 16 MB).
    image_size_limit: int = 16 * 1024 * 1024
    #: The largest request body any other route accepts (JSON, forms), in bytes
    #: (``CORDEE_MAX_BODY_SIZE``; 1 MiB, nginx's default). Media uploads take ``image_size_limit``
    #: plus 1 MiB. A larger body is refused with 413 before it is read (``cordee.http_limits``).
    max_body_size: int = 1024 * 1024
    #: The most pixels (width × height) an uploaded image may have (``CORDEE_IMAGE_MATRIX_LIMIT``).
    image_matrix_limit: int = 33_177_600
    #: The most frames an animation may have (``CORDEE_IMAGE_FRAME_LIMIT``).
    image_frame_limit: int = 1000
    #: Frames × width × height of an animation, the pixels decoding it holds (about 4 bytes each:
    #: ``CORDEE_IMAGE_ANIMATION_PIXEL_LIMIT``). 50 million is e.g. 500×500 pixels for 200 frames.
    image_animation_pixel_limit: int = 50_000_000
    #: Images are processed in child processes, at most this many at once per server process
    #: (``CORDEE_IMAGE_WORKERS``), each capped in memory (address space, ``CORDEE_IMAGE_WORKER_MEMORY_MB``),
    #: CPU time (``CORDEE_IMAGE_WORKER_CPU_SECONDS``) and wall-clock time (``CORDEE_IMAGE_WORKER_TIMEOUT``).
    image_workers: int = 2
    image_worker_memory_mb: int = 1024
    image_worker_cpu_seconds: int = 20
    image_worker_timeout: float = 60.0
    #: Video and audio uploads (Mastodon's limits): bytes (``CORDEE_VIDEO_SIZE_LIMIT``; 99 MB), pixels
    #: (``CORDEE_VIDEO_MATRIX_LIMIT``; 3840×2160), frames per second (``CORDEE_VIDEO_FRAME_RATE_LIMIT``;
    #: higher rates are brought down to it) and seconds (``CORDEE_MEDIA_DURATION_LIMIT``; longer is refused).
    video_size_limit: int = 99 * 1024 * 1024
    video_matrix_limit: int = 8_294_400
    video_frame_rate_limit: int = 120
    media_duration_limit: int = 3600
    #: Video and audio are transcoded in child processes, at most this many at once per server process
    #: (``CORDEE_VIDEO_WORKERS``), each capped like image workers (``CORDEE_VIDEO_WORKER_MEMORY_MB``,
    #: ``CORDEE_VIDEO_WORKER_CPU_SECONDS``, ``CORDEE_VIDEO_WORKER_TIMEOUT``).
    video_workers: int = 1
    video_worker_memory_mb: int = 2048
    video_worker_cpu_seconds: int = 1800
    video_worker_timeout: float = 2400.0
    #: Where the server's source code can be had (the AGPL asks for it); defaults to the instance.
    source_url: str = ""
    #: ``gc.set_threshold`` for the server process. Each open stream keeps a few hundred objects
    #: the collector tracks; with Python's defaults a full collection stops every stream for
    #: 200 ms at 1,000 streams and 1.4 s at 10,000 (docs/benchmarks.md). Rarer collections of
    #: the young generation keep pauses short. Empty: Python's defaults.
    gc_threshold: tuple[int, ...] = (50_000, 20, 100)
    instance_title: str = "Cordée"
    instance_description: str = "A Cordée microblogging network."
    contact_email: str = ""
    #: Signs web sessions; generated once and kept in ``<data_dir>/secret_key`` when unset.
    secret_key: str = field(default="", repr=False)
    #: Redis, for several server processes: empty means events stay in this process and home
    #: feeds live in the SQL database; set (``redis://host:6379/0``), events go through Redis
    #: pub/sub and home feeds are Redis sorted sets.
    redis_url: str = field(default="", repr=False)
    #: Prefix of every Redis key and channel (several instances can share one Redis).
    redis_prefix: str = "cordee:"
    #: Accounts with at least this many followers are not fanned out on write: their notes are
    #: merged into followers' home timelines when read, so a post costs the same whoever writes it.
    fanout_follower_threshold: int = 10_000
    #: How many note ids a home feed keeps (newest first); older pages come from the database.
    feed_size: int = 800
    #: A home feed not read for this many days is no longer fed; it is rebuilt when read again.
    feed_inactive_days: int = 14
    #: Messages a streaming connection may have waiting; a client that falls this far behind is
    #: disconnected (it reconnects and fetches what it missed) so it never slows the others.
    streaming_queue_size: int = 1000
    #: Seconds between heartbeats on server-sent event streams.
    streaming_heartbeat_seconds: int = 15
    #: Reverse proxies (addresses or CIDR networks) whose ``X-Forwarded-For`` is believed
    #: (``CORDEE_TRUSTED_PROXIES=127.0.0.1,10.0.0.0/8``). Empty: the client is the socket's peer,
    #: and a forged header changes nothing (rate limits, audit log, session list).
    trusted_proxies: tuple[str, ...] = ()
    #: E-mail (address confirmation, password reset): an SMTP server when ``CORDEE_SMTP_HOST`` is
    #: set, else messages are written as ``.eml`` files under ``<data_dir>/mail`` (local use).
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_user: str = ""
    smtp_password: str = field(default="", repr=False)
    #: ``starttls`` (default), ``tls`` (implicit, port 465) or ``none``.
    smtp_security: str = "starttls"
    #: The sender address; default ``<instance title> <notifications@<domain>>``.
    smtp_from: str = ""
    #: Whether a new account must confirm its e-mail address before using the API or signing in
    #: (``CORDEE_REQUIRE_EMAIL_CONFIRMATION``). Default: only when an SMTP server is configured, so a
    #: fresh local install (mail written to files) still lets people sign up and post.
    require_email_confirmation: bool | None = None

    @property
    def email_confirmation_required(self) -> bool:
        if self.require_email_confirmation is None:
            return bool(self.smtp_host)
        return self.require_email_confirmation

    #: Rate limits (docs/rate-limits.md), on by default: ``CORDEE_RATE_LIMITS=off`` turns them off
    #: (benchmarks do, to measure the server rather than its refusals).
    rate_limits: bool = True
    #: Figures replacing those of ``cordee.ratelimit.RULES``, as (name, amount, seconds):
    #: ``CORDEE_RATE_LIMITS_CUSTOM=api_token=600/300,sign_up_ip=10/1800``.
    rate_limits_custom: tuple[tuple[str, int, int], ...] = ()
    #: Web Push (docs/deployment.md): the server's VAPID key pair, base64url (the private key's
    #: 32 raw bytes; the public key may be left out, it is derived). Empty: a pair is generated
    #: once and kept in the database, so that every process signs with the same key.
    vapid_private_key: str = field(default="", repr=False)
    vapid_public_key: str = ""
    #: Push services are reached only at public addresses (a subscription cannot make the server
    #: post to its own network), except in these networks (``CORDEE_PUSH_ALLOWED_PRIVATE_NETWORKS``).
    push_allowed_private_networks: tuple[str, ...] = ()

    @property
    def domain(self) -> str:
        return self.base_url.split("://", 1)[-1].split("/", 1)[0]

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'cordee.sqlite3').resolve()}"

    def with_secret(self) -> Settings:
        """Return settings with a secret key, creating and storing one in the data dir if needed."""
        if self.secret_key:
            return self
        self.data_dir.mkdir(parents=True, exist_ok=True)
        path = self.data_dir / "secret_key"
        if not path.exists():
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return replace(self, secret_key=path.read_text().strip())


_PASSWORD_IN_QUERY = re.compile(r"([?&](?:password|pass|pwd)=)[^&]*", re.IGNORECASE)


def masked_url(url: str) -> str:
    """``url`` fit to print or log: a password in it (``user:password@`` or ``?password=``)
    replaced by ``***``. For the database, replica and Redis URLs."""
    try:
        shown = make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL SQLAlchemy reads: mask what lies between "user:" and "@"
        shown = re.sub(r"(//[^/@:]*:)[^/@]*@", r"\1***@", url)
    return _PASSWORD_IN_QUERY.sub(r"\1***", shown)


def without_passwords(text: str, *urls: str) -> str:
    """``text`` (an error message) with the passwords of ``urls`` replaced by ``***``."""
    for url in urls:
        try:
            password = make_url(url).password if url else None
        except Exception:
            password = None
        if password:
            text = text.replace(str(password), "***")
    return text


def _int(env: dict[str, str], name: str, default: int, minimum: int = 1) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}")
    return value


def _gc_threshold(raw: str | None) -> tuple[int, ...]:
    if raw is None:
        return Settings.gc_threshold
    try:
        values = tuple(int(v) for v in raw.split(",") if v.strip())
    except ValueError:
        raise ConfigError(f"CORDEE_GC_THRESHOLD must be up to three whole numbers, got {raw!r}") from None
    if len(values) > 3 or any(v < 0 for v in values):
        raise ConfigError(f"CORDEE_GC_THRESHOLD must be up to three whole numbers, got {raw!r}")
    return values


def _networks(raw: str, name: str = "CORDEE_TRUSTED_PROXIES") -> tuple[str, ...]:
    out = []
    for part in (p.strip() for p in raw.split(",")):
        if not part:
            continue
        try:
            out.append(str(ipaddress.ip_network(part, strict=False)))
        except ValueError:
            raise ConfigError(f"{name} must be addresses or networks (CIDR), got {part!r}") from None
    return tuple(out)


def _on_off(env: dict[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be on or off, got {raw!r}")


def _rate_limits_custom(raw: str) -> tuple[tuple[str, int, int], ...]:
    """``name=amount/seconds,…`` (unknown names are refused by ``cordee.ratelimit``)."""
    out = []
    for part in (p.strip() for p in raw.split(",")):
        if not part:
            continue
        name, _, figures = part.partition("=")
        amount, _, seconds = figures.partition("/")
        try:
            values = (name.strip(), int(amount), int(seconds))
        except ValueError:
            raise ConfigError(
                f"CORDEE_RATE_LIMITS_CUSTOM must be name=amount/seconds,…, got {part!r}"
            ) from None
        if not values[0] or values[1] < 1 or values[2] < 1:
            raise ConfigError(f"CORDEE_RATE_LIMITS_CUSTOM must be name=amount/seconds,…, got {part!r}")
        out.append(values)
    return tuple(out)


def _vapid_key(raw: str, name: str, size: int) -> str:
    """A base64url key of ``size`` bytes (32: a P-256 private key; 65: an uncompressed public key)."""
    key = raw.strip()
    if not key:
        return ""
    cleaned = key.replace("-", "+").replace("_", "/").rstrip("=")
    try:
        decoded = base64.b64decode(cleaned + "=" * (-len(cleaned) % 4), validate=True)
    except ValueError:
        decoded = b""
    if len(decoded) != size or (size == 65 and decoded[0] != 4):
        raise ConfigError(f"{name} must be a P-256 key of {size} bytes, base64url (see docs/deployment.md)")
    return key


def _smtp_security(raw: str) -> str:
    value = raw.strip().lower() or "starttls"
    if value not in ("starttls", "tls", "none"):
        raise ConfigError(f"CORDEE_SMTP_SECURITY must be starttls, tls or none, got {raw!r}")
    return value


def _optional_bool(raw: str | None) -> bool | None:
    if raw is None or not raw.strip():
        return None
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"expected on or off, got {raw!r}")


def load_settings(environ: dict[str, str] | None = None, **overrides: object) -> Settings:
    """Build settings from ``CORDEE_*`` environment variables, then apply explicit overrides."""
    env = dict(os.environ if environ is None else environ)
    mode = env.get("CORDEE_REGISTRATION_MODE", "open").strip().lower()
    if mode not in REGISTRATION_MODES:
        raise ConfigError(
            f"CORDEE_REGISTRATION_MODE must be one of {', '.join(REGISTRATION_MODES)}, got {mode!r}"
        )
    base_url = env.get("CORDEE_BASE_URL", Settings.base_url).rstrip("/")
    if not base_url.startswith(("http://", "https://")):
        raise ConfigError(f"CORDEE_BASE_URL must start with http:// or https://, got {base_url!r}")
    domains = tuple(
        d.strip().lower() for d in env.get("CORDEE_ALLOWED_EMAIL_DOMAINS", "").split(",") if d.strip()
    )
    settings = Settings(
        base_url=base_url,
        data_dir=Path(env.get("CORDEE_DATA_DIR", "data")),
        database_url=env.get("CORDEE_DATABASE_URL", ""),
        database_replica_url=env.get("CORDEE_DATABASE_REPLICA_URL", "").strip(),
        database_pool_size=_int(env, "CORDEE_DATABASE_POOL_SIZE", Settings.database_pool_size),
        access_log=env.get("CORDEE_ACCESS_LOG", "").strip().lower() in ("1", "true", "yes", "on"),
        registration_mode=mode,
        allowed_email_domains=domains,
        max_characters=_int(env, "CORDEE_MAX_CHARACTERS", 140),
        image_size_limit=_int(env, "CORDEE_IMAGE_SIZE_LIMIT", Settings.image_size_limit),
        max_body_size=_int(env, "CORDEE_MAX_BODY_SIZE", Settings.max_body_size),
        image_matrix_limit=_int(env, "CORDEE_IMAGE_MATRIX_LIMIT", Settings.image_matrix_limit),
        image_frame_limit=_int(env, "CORDEE_IMAGE_FRAME_LIMIT", Settings.image_frame_limit),
        image_animation_pixel_limit=_int(
            env, "CORDEE_IMAGE_ANIMATION_PIXEL_LIMIT", Settings.image_animation_pixel_limit
        ),
        image_workers=_int(env, "CORDEE_IMAGE_WORKERS", Settings.image_workers),
        image_worker_memory_mb=_int(env, "CORDEE_IMAGE_WORKER_MEMORY_MB", Settings.image_worker_memory_mb),
        image_worker_cpu_seconds=_int(
            env, "CORDEE_IMAGE_WORKER_CPU_SECONDS", Settings.image_worker_cpu_seconds
        ),
        image_worker_timeout=float(
            _int(env, "CORDEE_IMAGE_WORKER_TIMEOUT", int(Settings.image_worker_timeout))
        ),
        video_size_limit=_int(env, "CORDEE_VIDEO_SIZE_LIMIT", Settings.video_size_limit),
        video_matrix_limit=_int(env, "CORDEE_VIDEO_MATRIX_LIMIT", Settings.video_matrix_limit),
        video_frame_rate_limit=_int(env, "CORDEE_VIDEO_FRAME_RATE_LIMIT", Settings.video_frame_rate_limit),
        media_duration_limit=_int(env, "CORDEE_MEDIA_DURATION_LIMIT", Settings.media_duration_limit),
        video_workers=_int(env, "CORDEE_VIDEO_WORKERS", Settings.video_workers),
        video_worker_memory_mb=_int(env, "CORDEE_VIDEO_WORKER_MEMORY_MB", Settings.video_worker_memory_mb),
        video_worker_cpu_seconds=_int(
            env, "CORDEE_VIDEO_WORKER_CPU_SECONDS", Settings.video_worker_cpu_seconds
        ),
        video_worker_timeout=float(
            _int(env, "CORDEE_VIDEO_WORKER_TIMEOUT", int(Settings.video_worker_timeout))
        ),
        source_url=env.get("CORDEE_SOURCE_URL", ""),
        gc_threshold=_gc_threshold(env.get("CORDEE_GC_THRESHOLD")),
        instance_title=env.get("CORDEE_INSTANCE_TITLE", Settings.instance_title),
        instance_description=env.get("CORDEE_INSTANCE_DESCRIPTION", Settings.instance_description),
        contact_email=env.get("CORDEE_CONTACT_EMAIL", ""),
        secret_key=env.get("CORDEE_SECRET_KEY", ""),
        redis_url=env.get("CORDEE_REDIS_URL", "").strip(),
        redis_prefix=env.get("CORDEE_REDIS_PREFIX", Settings.redis_prefix),
        fanout_follower_threshold=_int(
            env, "CORDEE_FANOUT_FOLLOWER_THRESHOLD", Settings.fanout_follower_threshold
        ),
        feed_size=_int(env, "CORDEE_FEED_SIZE", Settings.feed_size, minimum=20),
        feed_inactive_days=_int(env, "CORDEE_FEED_INACTIVE_DAYS", Settings.feed_inactive_days),
        streaming_queue_size=_int(
            env, "CORDEE_STREAMING_QUEUE_SIZE", Settings.streaming_queue_size, minimum=10
        ),
        streaming_heartbeat_seconds=_int(
            env, "CORDEE_STREAMING_HEARTBEAT_SECONDS", Settings.streaming_heartbeat_seconds
        ),
        trusted_proxies=_networks(env.get("CORDEE_TRUSTED_PROXIES", "")),
        smtp_host=env.get("CORDEE_SMTP_HOST", "").strip(),
        smtp_port=_int(env, "CORDEE_SMTP_PORT", Settings.smtp_port),
        smtp_user=env.get("CORDEE_SMTP_USER", ""),
        smtp_password=env.get("CORDEE_SMTP_PASSWORD", ""),
        smtp_security=_smtp_security(env.get("CORDEE_SMTP_SECURITY", "starttls")),
        smtp_from=env.get("CORDEE_SMTP_FROM", ""),
        require_email_confirmation=_optional_bool(env.get("CORDEE_REQUIRE_EMAIL_CONFIRMATION")),
        rate_limits=_on_off(env, "CORDEE_RATE_LIMITS", True),
        rate_limits_custom=_rate_limits_custom(env.get("CORDEE_RATE_LIMITS_CUSTOM", "")),
        vapid_private_key=_vapid_key(env.get("CORDEE_VAPID_PRIVATE_KEY", ""), "CORDEE_VAPID_PRIVATE_KEY", 32),
        vapid_public_key=_vapid_key(env.get("CORDEE_VAPID_PUBLIC_KEY", ""), "CORDEE_VAPID_PUBLIC_KEY", 65),
        push_allowed_private_networks=_networks(
            env.get("CORDEE_PUSH_ALLOWED_PRIVATE_NETWORKS", ""), "CORDEE_PUSH_ALLOWED_PRIVATE_NETWORKS"
        ),
    )
    return replace(settings, **overrides)  # type: ignore[arg-type]
