"""Cross-origin access for browser apps (Elk, Phanpy, a blog's widget): a pure ASGI middleware.

What Mastodon's rack-cors configuration allows, the same way: any origin
(``Access-Control-Allow-Origin: *``), any request header (so ``Authorization``), the ``Link`` and
``X-RateLimit-*`` headers readable by the page, and **never credentials**: no
``Access-Control-Allow-Credentials``, so a browser does not send this site's cookies with a
cross-origin request, and the API authenticates by bearer token only anyway (``api/mastodon/base``
never reads the web session cookie). A page on another origin can therefore do with the API exactly
what a native app holding the same token can, and nothing with the visitor's signed-in session.

Covered: the API (streaming SSE included), ``/oauth/token`` and ``/oauth/revoke``,
``/.well-known/*``, ``/nodeinfo``, the feeds (``.rss``/``.atom``) and the widget's data under
``/widget/``. HTML never gets these headers: pages are for this site's own tabs.

A preflight (``OPTIONS`` with ``Origin`` and ``Access-Control-Request-Method``) is answered here,
204, without reaching a handler. Other answers on those paths carry the headers whether or not
the request came with an ``Origin``: the answer is then the same for every caller, so a shared
cache (feeds and oEmbed are ``Cache-Control: public``) never hands a browser app a copy stored
without them, and no ``Vary: Origin`` is needed. Like ``headers.py`` and ``http_limits.py``, it
wraps nothing but ``send``: 2 to 3 µs per API request (measured over a bare ASGI app).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

_API_METHODS = b"GET, POST, PUT, PATCH, DELETE, OPTIONS"
_READ_METHODS = b"GET, HEAD, OPTIONS"
_POST_METHODS = b"POST, OPTIONS"
#: Mastodon's list: pagination, rate limits, and the request id.
EXPOSED = b"Link, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset, X-Request-Id"
#: How long a browser may keep a preflight's answer (rack-cors' default; Chromium caps it at 2 h).
MAX_AGE = b"7200"


def allowed_methods(path: str) -> bytes | None:
    """The methods another origin may use on ``path``, or None when the path is not shared."""
    if path.startswith("/api/"):
        return _API_METHODS
    if path in ("/oauth/token", "/oauth/revoke"):
        return _POST_METHODS
    if path.startswith(("/.well-known/", "/nodeinfo", "/widget/")):
        return _READ_METHODS
    if path.startswith(("/@", "/tags/")) and path.endswith((".rss", ".atom")):
        return _READ_METHODS
    return None


class Cors:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._simple = ((b"access-control-allow-origin", b"*"), (b"access-control-expose-headers", EXPOSED))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        origin = requested = None
        for name, value in scope["headers"]:
            if name == b"origin":
                origin = value
            elif name == b"access-control-request-method":
                requested = value
        methods = allowed_methods(scope["path"])
        if methods is None:
            await self.app(scope, receive, send)
            return
        if scope["method"] == "OPTIONS" and requested is not None and origin is not None:
            await self._preflight(scope, methods, send)
            return
        simple = self._simple

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.get("headers")
                if not isinstance(headers, list):
                    headers = message["headers"] = list(headers or ())
                for name, value in headers:
                    # HTML is for this site's tabs; a handler that set its own CORS keeps it (two
                    # Allow-Origin headers would make the browser refuse the answer).
                    if (name == b"content-type" and value.startswith(b"text/html")) or (
                        name == b"access-control-allow-origin"
                    ):
                        break
                else:
                    headers.extend(simple)
            await send(message)

        await self.app(scope, receive, send_with_cors)

    @staticmethod
    async def _preflight(scope: Scope, methods: bytes, send: Send) -> None:
        asked_headers = b""
        for name, value in scope["headers"]:
            if name == b"access-control-request-headers":
                asked_headers = value
        headers = [
            (b"access-control-allow-origin", b"*"),
            (b"access-control-allow-methods", methods),
            (b"access-control-max-age", MAX_AGE),
            (b"vary", b"Access-Control-Request-Headers"),
        ]
        if asked_headers:
            # Any header, as rack-cors' ``headers: :any``: echo what the page asks for. Browsers
            # never let a page set cookies or other forbidden headers, whatever is listed here.
            headers.append((b"access-control-allow-headers", asked_headers))
        await send({"type": "http.response.start", "status": 204, "headers": headers})
        await send({"type": "http.response.body", "body": b""})
