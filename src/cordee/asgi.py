"""The ASGI entry point for uvicorn (``cordee.asgi:app``), configured from the environment."""

import gc

from cordee.app import build_app
from cordee.config import load_settings

settings = load_settings()
app = build_app(settings)

if settings.gc_threshold:
    # Everything imported and built so far lives as long as the process: keep it out of every
    # future collection, and collect the young generation less often (see Settings.gc_threshold).
    gc.collect()
    gc.freeze()
    gc.set_threshold(*settings.gc_threshold)
