"""Web Push subscriptions (the fidelity issue)."""

from __future__ import annotations
