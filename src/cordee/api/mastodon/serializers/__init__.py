"""Entities exactly as Mastodon shapes them, rendered in batches (a few queries per page, not per item)."""
