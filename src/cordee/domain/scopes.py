"""OAuth scopes as Mastodon defines them: top-level scopes imply their ``scope:resource`` children,
and the legacy ``follow`` scope implies the follow/block/mute ones."""

from __future__ import annotations

READ_SCOPES = frozenset(
    f"read:{r}"
    for r in (
        "accounts",
        "blocks",
        "bookmarks",
        "favourites",
        "filters",
        "follows",
        "lists",
        "mutes",
        "notifications",
        "search",
        "statuses",
    )
)
WRITE_SCOPES = frozenset(
    f"write:{r}"
    for r in (
        "accounts",
        "blocks",
        "bookmarks",
        "conversations",
        "favourites",
        "filters",
        "follows",
        "lists",
        "media",
        "mutes",
        "notifications",
        "reports",
        "statuses",
    )
)
FOLLOW_IMPLIES = frozenset(
    {"read:blocks", "write:blocks", "read:follows", "write:follows", "read:mutes", "write:mutes"}
)
TOP_LEVEL = frozenset({"read", "write", "follow", "push", "profile"})
ALL_SCOPES = TOP_LEVEL | READ_SCOPES | WRITE_SCOPES | {"admin:read", "admin:write"}


class ScopeError(ValueError):
    pass


def parse_scopes(raw: str | None, default: str = "read") -> frozenset[str]:
    """Parse a space (or ``+``, or comma) separated scope string; unknown scopes are an error."""
    text = (raw or default).replace("+", " ").replace(",", " ")
    scopes = frozenset(s for s in text.split() if s)
    unknown = sorted(s for s in scopes if s not in ALL_SCOPES and not s.startswith("admin:"))
    if unknown:
        raise ScopeError(f"Unknown scope: {', '.join(unknown)}")
    return scopes or frozenset({default})


def grants(granted: frozenset[str], required: str) -> bool:
    """Whether a token with ``granted`` scopes may act under ``required`` (e.g. ``read:statuses``)."""
    if required in granted:
        return True
    top = required.split(":", 1)[0]
    if top in granted and top in ("read", "write", "admin"):
        return True
    if required == "profile" and "read" in granted:
        return False
    return "follow" in granted and required in FOLLOW_IMPLIES


def is_subset(requested: frozenset[str], allowed: frozenset[str]) -> bool:
    """Whether every requested scope is covered by what the application registered."""
    return all(s in allowed or grants(allowed, s) for s in requested)


def to_string(scopes: frozenset[str]) -> str:
    order = ["read", "write", "follow", "push", "profile"]
    return " ".join(sorted(scopes, key=lambda s: (order.index(s) if s in order else len(order), s)))
