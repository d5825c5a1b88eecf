"""Settings, read from the environment (``CORDEE_*``), with documented defaults.

Every setting has a default that makes ``cordee serve`` work on a fresh machine: an embedded
SQLite database in ``./data``, open registrations, 140-character notes, on http://127.0.0.1:8000.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

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
    #: SQLAlchemy URL; empty means ``sqlite+aiosqlite:///<data_dir>/cordee.sqlite3``.
    database_url: str = ""
    #: open | approval | invite | closed
    registration_mode: RegistrationMode = "open"
    #: If not empty, only e-mail addresses in these domains may register.
    allowed_email_domains: tuple[str, ...] = ()
    #: The note length limit (weighted like Mastodon: a URL counts 23, a mention its local part).
    max_characters: int = 140
    characters_reserved_per_url: int = 23
    instance_title: str = "Cordée"
    instance_description: str = "A Cordée microblogging network."
    contact_email: str = ""
    #: Signs web sessions; generated once and kept in ``<data_dir>/secret_key`` when unset.
    secret_key: str = field(default="", repr=False)

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
        registration_mode=mode,
        allowed_email_domains=domains,
        max_characters=_int(env, "CORDEE_MAX_CHARACTERS", 140),
        instance_title=env.get("CORDEE_INSTANCE_TITLE", Settings.instance_title),
        instance_description=env.get("CORDEE_INSTANCE_DESCRIPTION", Settings.instance_description),
        contact_email=env.get("CORDEE_CONTACT_EMAIL", ""),
        secret_key=env.get("CORDEE_SECRET_KEY", ""),
    )
    return replace(settings, **overrides)  # type: ignore[arg-type]
