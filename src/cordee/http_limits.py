"""Request body caps, enforced before a body is read: a pure ASGI middleware.

Every route takes a small body (JSON and forms: ``Settings.max_body_size``, 1 MiB like nginx's
default ``client_max_body_size``) except the few that take an image, which take the advertised
``image_size_limit`` plus room for the multipart framing and the other fields (the media upload
routes of the API take ``video_size_limit`` if larger: they also take video and audio). A declared
``Content-Length`` over the cap is answered 413 at once, without reading a byte; a body streamed
without one (chunked) is counted as it arrives and refused at the first chunk past the cap.

Pure ASGI rather than ``BaseHTTPMiddleware``: the API's hot paths are benchmarked, and a GET costs
one comparison here.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cordee.api.mastodon.errors import error_response

#: A WebSocket message from a client: stream (un)subscriptions are a few dozen bytes. Uvicorn refuses a
#: bigger one as it arrives (``ws_max_size``); under granian, which has no such cap, the stream
#: closes when it gets one (``streaming/endpoints.py``).
MAX_WEBSOCKET_MESSAGE = 64 * 1024

#: What a media upload may carry besides the image: multipart headers, description, focus, thumbnail
#: fields. The description alone may be 1,500 characters (6 KB in UTF-8); 1 MiB is ample.
MEDIA_OVERHEAD = 1024 * 1024

#: Routes that take an image (method, exact path or path prefix ending in "/").
_MEDIA_ROUTES = (
    ("POST", "/api/v1/media"),
    ("POST", "/api/v2/media"),
    ("PUT", "/api/v1/media/"),  # describe an upload; Mastodon also takes a new thumbnail here
    ("PATCH", "/api/v1/accounts/update_credentials"),  # avatar and header
    ("POST", "/settings/profile"),  # the same, from the web page
)
#: Routes that take up to four images (the web compose box: a note with its images and alt texts).
_MULTI_MEDIA_ROUTES = frozenset({("POST", "/compose")})
IMAGES_PER_NOTE = 4

#: Routes that also take a video or audio file (``Settings.video_size_limit``).
_VIDEO_ROUTES = frozenset({("POST", "/api/v1/media"), ("POST", "/api/v2/media")})

_NO_BODY = frozenset({"GET", "HEAD", "OPTIONS"})


class BodyTooLarge(Exception):
    """Raised from ``receive`` when a streamed body passes its cap; answered 413 by the middleware.
    Code that catches broad exceptions around reading a body must let it through."""


def _is_media(method: str, path: str) -> bool:
    for m, route in _MEDIA_ROUTES:
        if method == m and (path == route or (route.endswith("/") and path.startswith(route))):
            return True
    return False


class BodyLimit:
    def __init__(
        self, app: ASGIApp, *, max_body_size: int, image_size_limit: int, video_size_limit: int = 0
    ) -> None:
        self.app = app
        self.small = max_body_size
        self.media = image_size_limit + MEDIA_OVERHEAD
        self.video = max(image_size_limit, video_size_limit) + MEDIA_OVERHEAD
        self.multi_media = IMAGES_PER_NOTE * image_size_limit + MEDIA_OVERHEAD

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in _NO_BODY:
            await self.app(scope, receive, send)
            return
        if (scope["method"], scope["path"]) in _MULTI_MEDIA_ROUTES:
            limit = self.multi_media
        elif (scope["method"], scope["path"]) in _VIDEO_ROUTES:
            limit = self.video
        else:
            limit = self.media if _is_media(scope["method"], scope["path"]) else self.small
        declared: int | None = None
        for name, value in scope["headers"]:
            if name == b"content-length":
                declared = int(value) if value.isdigit() else -1
                break
        if declared is not None:
            # The server frames the body by its Content-Length: it cannot carry more than declared.
            if declared < 0:
                await error_response(400, "Content-Length is not a number")(scope, receive, send)
            elif declared > limit:
                await self._refuse(limit, scope, receive, send)
            else:
                await self.app(scope, receive, send)
            return

        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge()
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, watched_send)
        except BodyTooLarge:
            if started:  # a handler answered before reading all of it; nothing more can be said
                raise
            await self._refuse(limit, scope, receive, send)

    @staticmethod
    async def _refuse(limit: int, scope: Scope, receive: Receive, send: Send) -> None:
        # ``Connection: close``: the rest of the body is not read, so the connection cannot be reused.
        response = error_response(
            413,
            f"The request body is too large (at most {limit} bytes here)",
            headers={"Connection": "close"},
        )
        await response(scope, receive, send)
