"""The ASGI entry point for uvicorn (``cordee.asgi:app``), configured from the environment."""

from cordee.app import build_app, tune_gc
from cordee.config import load_settings

settings = load_settings()
app = build_app(settings)
tune_gc(settings)
