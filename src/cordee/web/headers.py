"""Security headers on every response, added by one pure ASGI middleware.

- Every response: ``X-Content-Type-Options: nosniff`` (a browser never guesses a type: an upload or
  a JSON answer is never run as HTML or script), ``Referrer-Policy: same-origin`` (addresses, which
  may hold codes or ids, stay on this site), and HSTS when the site is served over https.
- HTML pages: a strict Content-Security-Policy — scripts only from this site's files (so no inline
  script, the XSS of finding 1 could not run), nothing framing the page, forms posting only here —
  and ``X-Frame-Options`` for browsers that predate ``frame-ancestors``. A page that must post
  elsewhere (the OAuth pages, to the app's registered address) sets its own policy from
  ``page_policy``; the middleware leaves a policy it finds.
- Uploaded media: the users' own bytes, so opened on their own they get an empty, sandboxed policy.

It appends to the ``http.response.start`` message's header list and wraps nothing else: the API's
hot paths pay one closure and a scan of a few headers per request (no BaseHTTPMiddleware).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cordee.media.storage import MEDIA_PATH

#: The policy of HTML pages. Avatars and media may be on another storage's https host, and small
#: pictures (a QR code) may be data: URLs; nothing else comes from elsewhere.
_DIRECTIVES = (
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: https:",
    "media-src 'self' https:",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
)
#: Two years, as Mastodon's deployment guide says. No ``includeSubDomains``: the instance may live
#: on a subdomain of a domain whose other hosts are not all on https, which it cannot know.
HSTS = "max-age=63072000"
MEDIA_POLICY = "default-src 'none'; sandbox"


def page_policy(*form_targets: str) -> str:
    """The policy of an HTML page whose forms may post here and to ``form_targets`` (CSP sources,
    e.g. ``https://client.example``). Browsers also check form-action on the redirects that follow
    a form, so a page whose form answer redirects to an application must name it too."""
    return "; ".join((*_DIRECTIVES, " ".join(("form-action 'self'", *form_targets))))


PAGE_POLICY = page_policy()
#: A page meant to be framed by any site (a note's ``/embed``, the widget's frame): the same
#: policy but ``frame-ancestors *``, and no form posts anywhere. The middleware then leaves out
#: ``X-Frame-Options`` (which cannot say "anyone").
EMBED_POLICY = "; ".join(
    (
        *(d for d in _DIRECTIVES if not d.startswith("frame-ancestors")),
        "frame-ancestors *",
        "form-action 'none'",
    )
)


class SecurityHeaders:
    def __init__(self, app: ASGIApp, *, https: bool) -> None:
        self.app = app
        common = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin")]
        if https:
            common.append((b"strict-transport-security", HSTS.encode()))
        self._common = tuple(common)
        self._page = ((b"content-security-policy", PAGE_POLICY.encode()),)
        self._media = ((b"content-security-policy", MEDIA_POLICY.encode()),)
        self._media_prefix = MEDIA_PATH + "/"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        media = scope["path"].startswith(self._media_prefix)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.get("headers")
                if not isinstance(headers, list):
                    headers = message["headers"] = list(headers or ())
                html = has_policy = framable = False
                for name, value in headers:
                    if name == b"content-type":
                        html = value.startswith(b"text/html")
                    elif name == b"content-security-policy":
                        has_policy = True
                        framable = b"frame-ancestors 'none'" not in value
                headers.extend(self._common)
                if html:
                    if not has_policy:
                        headers.extend(self._page)
                    if not framable:
                        headers.append((b"x-frame-options", b"DENY"))
                elif media and not has_policy:
                    headers.extend(self._media)
            await send(message)

        await self.app(scope, receive, send_with_headers)
