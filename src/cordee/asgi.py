"""The ASGI entry point (``cordee.asgi:app`` for uvicorn, ``cordee.asgi:behind_proxy`` for
granian), configured from the environment."""

import os

from granian.utils.proxies import wrap_asgi_with_proxy_headers

from cordee.app import build_app, tune_gc
from cordee.config import load_settings

settings = load_settings()
app = build_app(settings)
tune_gc(settings)

#: The application as granian serves it (``cordee serve --server granian``): the client address and
#: scheme a proxy on loopback forwards (``X-Forwarded-For``, ``X-Forwarded-Proto``), as uvicorn's
#: ``proxy_headers`` gives them (trusted: ``FORWARDED_ALLOW_IPS``, by default 127.0.0.1, as uvicorn's).
behind_proxy = wrap_asgi_with_proxy_headers(app, os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"))
