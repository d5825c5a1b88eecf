"""The ASGI entry point for uvicorn (``cordee.asgi:app``), configured from the environment."""

from cordee.app import build_app
from cordee.config import load_settings

app = build_app(load_settings())
