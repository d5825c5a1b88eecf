"""The only writers. Each public function here is one thing a person (or an admin) does; it owns
its transaction through ``Database.write()`` and emits events that are published after commit.
Adapters (API, web, CLI) validate shapes, then call exactly one action."""
