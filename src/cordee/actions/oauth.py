"""OAuth 2: registering applications, issuing, refreshing and revoking tokens.

Grants follow RFC 6749 (authorization code with optional PKCE per RFC 7636, password, client
credentials, refresh token) with Mastodon's conventions: tokens do not expire, the token response
carries ``scope`` and ``created_at``, ``urn:ietf:wg:oauth:2.0:oob`` shows the code to the user.
Every token issued or revoked is written to the audit log in the transaction that does it.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from cordee.actions import audit, two_factor
from cordee.actions.errors import ValidationFailed
from cordee.db.engine import Database
from cordee.db.tables import AccessToken, Account, Application, AuthorizationCode, User
from cordee.db.tx import Tx
from cordee.db.types import utcnow
from cordee.domain import scopes as sc
from cordee.domain.passwords import hash_password, needs_rehash, spend_verify_time, verify_password
from cordee.domain.redirect_uris import OOB_URI, valid_redirect_uri
from cordee.events.types import TokensRevoked

__all__ = ["OOB_URI", "OAuthError", "IssuedToken", "valid_redirect_uri"]

CODE_LIFETIME = timedelta(minutes=10)


class OAuthError(Exception):
    """An RFC 6749 error: ``error`` is the code, ``description`` the readable reason."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    refresh_token: str | None
    scopes: str
    created_at: int


def _web_url(value: str) -> bool:
    """Mastodon's UrlValidator: an http(s) URL with a host (and at most 2,000 characters)."""
    try:
        parsed = urlsplit(value)
    except ValueError:
        return False
    return parsed.scheme in ("http", "https") and bool(parsed.hostname) and len(value) <= 2000


async def create_application(
    db: Database, name: str, redirect_uris: list[str], scopes: str | None, website: str | None
) -> Application:
    if not name.strip():
        raise ValidationFailed("Validation failed: Name can't be blank")
    if len(name) > 200:
        raise ValidationFailed("Validation failed: Name is too long")
    uris = [u.strip() for u in redirect_uris if u.strip()]
    if not uris:
        raise ValidationFailed("Validation failed: Redirect URI can't be blank")
    if not all(valid_redirect_uri(u) for u in uris):
        # As Doorkeeper words it for Mastodon, plus what this server refuses (domain/redirect_uris.py).
        raise ValidationFailed(
            "Validation failed: Redirect URI must be an absolute URI without a fragment, "
            "and not one a browser runs (javascript:, data:, vbscript:, file: …)."
        )
    if website and not _web_url(website):
        raise ValidationFailed("Validation failed: Website is invalid")
    try:
        parsed = sc.parse_scopes(scopes)
    except sc.ScopeError as e:
        raise ValidationFailed(f"Validation failed: {e}") from None
    async with db.write() as tx:
        app = Application(
            name=name.strip(),
            website=website or None,
            redirect_uris="\n".join(uris),
            scopes=sc.to_string(parsed),
            client_id=secrets.token_urlsafe(32),
            client_secret=secrets.token_urlsafe(32),
        )
        tx.session.add(app)
    return app


async def authenticate_client(db: Database, client_id: str | None, client_secret: str | None) -> Application:
    if not client_id:
        raise OAuthError("invalid_client", "Client authentication failed: client_id is missing", 401)
    async with db.read() as session:
        app = await session.scalar(select(Application).where(Application.client_id == client_id))
    if app is None or client_secret is None or not hmac.compare_digest(app.client_secret, client_secret):
        raise OAuthError(
            "invalid_client",
            "Client authentication failed due to unknown client, "
            "no client authentication included, or unsupported authentication method.",
            401,
        )
    return app


async def find_application(db: Database, client_id: str) -> Application | None:
    async with db.read() as session:
        return await session.scalar(select(Application).where(Application.client_id == client_id))


def requested_scopes(app: Application, raw: str | None) -> frozenset[str]:
    """The scopes of a grant: what was asked (``read`` when nothing is, as Mastodon does), within
    the scopes the app registered."""
    allowed = frozenset(app.scopes.split())
    try:
        asked = sc.parse_scopes(raw, default="read")
    except sc.ScopeError as e:
        raise OAuthError("invalid_scope", str(e)) from None
    if not sc.is_subset(asked, allowed):
        raise OAuthError("invalid_scope", "The requested scope is invalid, unknown, or malformed.")
    return asked


async def _add_token(
    session: AsyncSession,
    app_id: int,
    user_id: int | None,
    scopes: frozenset[str],
    grant_type: str,
    ip: str,
    code_id: int | None = None,
) -> IssuedToken:
    """A new token in the caller's transaction, with its audit event."""
    token = AccessToken(
        token=secrets.token_urlsafe(32),
        refresh_token=secrets.token_urlsafe(32) if user_id is not None else None,
        application_id=app_id,
        user_id=user_id,
        scopes=sc.to_string(scopes),
        authorization_code_id=code_id,
    )
    session.add(token)
    await session.flush()
    audit.record(
        session, "token_issued", user_id=user_id, ip=ip, grant_type=grant_type, application_id=app_id
    )
    return IssuedToken(token.token, token.refresh_token, token.scopes, int(token.created_at.timestamp()))


async def _issue(
    db: Database, app_id: int, user_id: int | None, scopes: frozenset[str], grant_type: str, ip: str
) -> IssuedToken:
    async with db.write() as tx:
        return await _add_token(tx.session, app_id, user_id, scopes, grant_type, ip)


async def issue_user_token(
    db: Database,
    app: Application,
    user_id: int,
    scopes: frozenset[str],
    *,
    grant_type: str = "registration",
    ip: str = "",
) -> IssuedToken:
    return await _issue(db, app.id, user_id, scopes, grant_type, ip)


async def create_authorization_code(
    db: Database,
    app: Application,
    user_id: int,
    redirect_uri: str,
    scopes: frozenset[str],
    code_challenge: str | None,
    code_challenge_method: str | None,
) -> str:
    code = secrets.token_urlsafe(32)
    async with db.write() as tx:
        tx.session.add(
            AuthorizationCode(
                code=code,
                application_id=app.id,
                user_id=user_id,
                redirect_uri=redirect_uri,
                scopes=sc.to_string(scopes),
                code_challenge=code_challenge,
                code_challenge_method=code_challenge_method,
                expires_at=utcnow() + CODE_LIFETIME,
            )
        )
    return code


def _pkce_ok(challenge: str, method: str | None, verifier: str | None) -> bool:
    # S256 only, the one method advertised: ``plain`` gives nothing against a stolen code.
    if not verifier or method != "S256":
        return False
    digest = hashlib.sha256(verifier.encode("ascii", "ignore")).digest()
    computed = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    return hmac.compare_digest(computed, challenge)


INVALID_GRANT = (
    "The provided authorization grant is invalid, expired, revoked, does not match the redirection "
    "URI used in the authorization request, or was issued to another client."
)


async def _revoke_where(tx: Tx, condition: ColumnElement[bool], ip: str, reason: str) -> list[int]:
    """Revoke the live tokens matching ``condition``, with an audit event per token's owner, and
    close the streams opened with them on every process once committed (``TokensRevoked``).
    The ids of the revoked tokens are returned."""
    session = tx.session
    rows = (
        await session.execute(
            update(AccessToken)
            .where(condition, AccessToken.revoked_at.is_(None))
            .values(revoked_at=utcnow())
            .returning(AccessToken.id, AccessToken.user_id, AccessToken.application_id)
            .execution_options(synchronize_session=False)
        )
    ).all()
    for token_id, user_id, app_id in rows:
        audit.record(
            session,
            "token_revoked",
            user_id=user_id,
            ip=ip,
            reason=reason,
            application_id=app_id,
            token=token_id,
        )
    if rows:
        tx.emit(TokensRevoked(token_ids=tuple(row[0] for row in rows)))
    return [row[0] for row in rows]


async def exchange_code(
    db: Database,
    app: Application,
    code: str | None,
    redirect_uri: str | None,
    code_verifier: str | None,
    *,
    ip: str = "",
) -> IssuedToken:
    """RFC 6749 §4.1.3. The code is spent and the token issued in one transaction, by a
    conditional UPDATE: of two exchanges racing on one code (PostgreSQL runs them at once), the
    second waits for the first's row lock, then matches nothing. A code presented again — a
    replay, or a stolen copy — revokes every token it gave (§4.1.2)."""
    if not code:
        raise OAuthError("invalid_request", "The request is missing a required parameter: code.")
    async with db.write() as tx:
        grant = await tx.session.scalar(
            select(AuthorizationCode).where(
                AuthorizationCode.code == code, AuthorizationCode.application_id == app.id
            )
        )
        if grant is None or grant.expires_at < utcnow():
            raise OAuthError("invalid_grant", INVALID_GRANT)
        spent = grant.used
        if not spent:
            # Checked before spending: a wrong request leaves the code to its rightful client.
            # The redirect_uri is always recorded with the code, so it is always required.
            if redirect_uri != grant.redirect_uri:
                raise OAuthError(
                    "invalid_grant",
                    "The redirect_uri is missing or does not match the authorization request.",
                )
            if grant.code_challenge and not _pkce_ok(
                grant.code_challenge, grant.code_challenge_method, code_verifier
            ):
                raise OAuthError("invalid_grant", "The code_verifier does not match the code_challenge.")
            claimed = await tx.session.execute(
                update(AuthorizationCode)
                .where(AuthorizationCode.id == grant.id, AuthorizationCode.used.is_(False))
                .values(used=True)
                .execution_options(synchronize_session=False)
            )
            spent = claimed.rowcount != 1  # type: ignore[attr-defined]
        if not spent:
            return await _add_token(
                tx.session,
                app.id,
                grant.user_id,
                frozenset(grant.scopes.split()),
                "authorization_code",
                ip,
                code_id=grant.id,
            )
        await _revoke_where(tx, AccessToken.authorization_code_id == grant.id, ip, "code_reused")
    # Raised after the block so that the revocation commits.
    raise OAuthError("invalid_grant", INVALID_GRANT)


async def check_user_credentials(db: Database, login: str, password: str) -> User | None:
    """The user for an e-mail (or username) and password, or None. Constant work for misses."""
    login = login.strip().lower()
    async with db.read() as session:
        user = await session.scalar(
            select(User)
            .join(Account, Account.id == User.account_id)
            .where((User.email == login) | ((Account.username_key == login) & Account.domain.is_(None)))
        )
    if user is None:
        await asyncio.to_thread(spend_verify_time, password)
        return None
    # Argon2 is deliberately slow (tens of ms): keep it off the event loop.
    if not await asyncio.to_thread(verify_password, user.password_hash, password):
        return None
    if needs_rehash(user.password_hash):
        await _rehash(db, user, password)
    return user


async def _rehash(db: Database, user: User, password: str) -> None:
    """Store the password under today's Argon2 parameters (the hash just verified was made with
    others). Only if it is still the hash verified: a password changed meanwhile wins."""
    new_hash = await asyncio.to_thread(hash_password, password)
    async with db.write() as tx:
        await tx.session.execute(
            update(User)
            .where(User.id == user.id, User.password_hash == user.password_hash)
            .values(password_hash=new_hash)
        )
    user.password_hash = new_hash


def usable(user: User) -> OAuthError | None:
    if user.disabled:
        return OAuthError("invalid_grant", "Your login is currently disabled", 403)
    if not user.approved:
        return OAuthError("invalid_grant", "Your login is currently pending approval", 403)
    return None


async def password_grant(
    db: Database,
    app: Application,
    username: str | None,
    password: str | None,
    scope: str | None,
    *,
    ip: str = "",
) -> IssuedToken:
    if not username or not password:
        raise OAuthError(
            "invalid_request", "The request is missing a required parameter: username and password."
        )
    scopes = requested_scopes(app, scope)
    user = await check_user_credentials(db, username, password)
    if user is None:
        raise OAuthError(
            "invalid_grant",
            "The provided authorization grant is invalid, expired, revoked, "
            "does not match the redirection URI used in the authorization request, or was "
            "issued to another client.",
        )
    problem = usable(user)
    if problem is not None:
        raise problem
    if await two_factor.is_enabled(db, user.id):
        # As Mastodon: the password grant has no place for the code. Said only after a right
        # password, so it tells a guesser nothing.
        raise OAuthError(
            "invalid_grant",
            "Two-factor authentication is enabled on this account: sign in through the browser "
            "(authorization code flow) instead of the password grant.",
        )
    return await _issue(db, app.id, user.id, scopes, "password", ip)


async def client_credentials_grant(
    db: Database, app: Application, scope: str | None, *, ip: str = ""
) -> IssuedToken:
    return await _issue(db, app.id, None, requested_scopes(app, scope), "client_credentials", ip)


async def refresh(
    db: Database, app: Application, refresh_token: str | None, scope: str | None, *, ip: str = ""
) -> IssuedToken:
    if not refresh_token:
        raise OAuthError("invalid_request", "The request is missing a required parameter: refresh_token.")
    async with db.write() as tx:
        old = await tx.session.scalar(
            select(AccessToken).where(
                AccessToken.refresh_token == refresh_token,
                AccessToken.application_id == app.id,
                AccessToken.revoked_at.is_(None),
            )
        )
        if old is None or old.user_id is None:
            raise OAuthError(
                "invalid_grant", "The refresh token is invalid, revoked, or was issued to another client."
            )
        scopes = frozenset(old.scopes.split())
        if scope:
            asked = requested_scopes(app, scope)
            if not sc.is_subset(asked, scopes):
                raise OAuthError(
                    "invalid_scope", "A refreshed token cannot have more scopes than the original."
                )
            scopes = asked
        # Rotation: the old pair stops working, in the transaction that makes the new one, and
        # only once (a conditional UPDATE: two refreshes racing on one token give one new pair).
        if not await _revoke_where(tx, AccessToken.id == old.id, ip, "refresh"):
            raise OAuthError(
                "invalid_grant", "The refresh token is invalid, revoked, or was issued to another client."
            )
        # The new token stays tied to the code of the first: a replay of that code revokes it too.
        return await _add_token(
            tx.session, app.id, old.user_id, scopes, "refresh_token", ip, code_id=old.authorization_code_id
        )


async def revoke(db: Database, app: Application, token: str | None, *, ip: str = "") -> None:
    """Revoke an access or refresh token of this client. Unknown tokens are ignored (RFC 7009)."""
    if not token:
        raise OAuthError("invalid_request", "The request is missing a required parameter: token.")
    async with db.write() as tx:
        await _revoke_where(
            tx,
            ((AccessToken.token == token) | (AccessToken.refresh_token == token))
            & (AccessToken.application_id == app.id),
            ip,
            "revoked",
        )
