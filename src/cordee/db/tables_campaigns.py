"""Campaigns, chapters, tickets, the donation ledger and raffles (the campaigns issue)."""

from __future__ import annotations
