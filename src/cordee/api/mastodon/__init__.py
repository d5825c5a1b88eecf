"""The Mastodon client API: one module per resource, each a thin adapter over actions and queries."""
