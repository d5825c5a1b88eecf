"""Tracked searches ('veilles'), their alerts and sentiment labels (the listening issue)."""

from __future__ import annotations
