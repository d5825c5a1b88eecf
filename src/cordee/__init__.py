"""Cordée: a self-hosted microblogging network with a Mastodon-compatible client API."""

__version__ = "0.1.0"
COMPATIBLE_API_VERSION = "4.5.0"
