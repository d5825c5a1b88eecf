"""The streaming API (Mastodon-compatible): server-sent events and WebSocket over the event bus.

- ``channels``: stream names and parameters (``user``, ``public:local``, ``hashtag`` …) → routing keys;
- ``connections``: one bounded queue per client connection, never awaited by the publisher;
- ``relations``: per-account block and mute sets, for the per-recipient filter;
- ``hub``: the registry of connections; turns each committed event into frames, rendering each
  payload once per audience and filtering per recipient;
- ``endpoints``: the SSE routes, the WebSocket route and the health check.
"""
