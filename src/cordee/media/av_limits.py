"""What a video or audio upload may cost: a module of its own so that the server process, which only
passes these figures to its child processes, never imports PyAV (~23 MiB of resident memory)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AvLimits:
    """What a video or audio upload may cost (``Settings.video_*``, ``Settings.media_duration_limit``)."""

    max_bytes: int
    max_pixels: int
    max_frame_rate: int
    max_seconds: int
