"""How much an image will cost to decode, read from its container without decoding anything.

Pillow decodes every frame of an animation onto the whole canvas, so a few kilobytes describing
thousands of one-pixel frames on a 2000×2000 canvas become gigabytes. Pillow cannot say so
cheaply: ``n_frames`` walks the file frame by frame, and opening an animated WebP already allocates
canvas buffers. These readers walk only the container's structure (GIF blocks, PNG and RIFF chunks),
stop counting past the frame limit, and never allocate anything the size of the image.

A reader that does not understand the file returns what it has seen (or ``None``); Pillow then
refuses the file as corrupt, and the decoding loop in ``images`` enforces the same budget anyway.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass


@dataclass(frozen=True)
class Canvas:
    """The size every decoded frame will have, and how many frames there are (counted only up to
    one past the limit asked for)."""

    width: int
    height: int
    frames: int

    @property
    def pixels(self) -> int:
        return self.width * self.height


class Unreadable(ValueError):
    """The container's structure is cut short where a size should be."""


def scan(data: bytes, frame_limit: int) -> Canvas | None:
    """The canvas of a GIF, PNG/APNG or WebP; ``None`` for JPEG (one frame, whose size Pillow reads
    without decoding) and for anything else."""
    try:
        if data[:6] in (b"GIF87a", b"GIF89a"):
            return _gif(data, frame_limit)
        if data[:8] == b"\x89PNG\r\n\x1a\n":
            return _png(data, frame_limit)
        if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
            return _webp(data, frame_limit)
    except struct.error:
        raise Unreadable("the file is truncated") from None
    return None


def _skip_sub_blocks(data: bytes, at: int) -> int:
    """The position after a chain of GIF data sub-blocks (each a length byte, a zero one ends it)."""
    while at < len(data) and data[at]:
        at += data[at] + 1
    return at + 1


def _gif(data: bytes, frame_limit: int) -> Canvas | None:
    if len(data) < 13:
        return None
    width, height, flags = struct.unpack_from("<HHB", data, 6)
    at = 13 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)  # after the global colour table
    frames = 0
    while at < len(data) and frames <= frame_limit:
        block = data[at]
        if block == 0x2C:  # an image: its descriptor, a local colour table, the LZW data
            if at + 10 > len(data):
                break
            left, top, w, h, local = struct.unpack_from("<HHHHB", data, at + 1)
            # Pillow grows the canvas to hold a frame that does not fit in it.
            width, height = max(width, left + w), max(height, top + h)
            frames += 1
            at += 10 + (3 << ((local & 7) + 1) if local & 0x80 else 0)
            at = _skip_sub_blocks(data, at + 1)  # after the LZW minimum code size
        elif block == 0x21:  # an extension: its label, then sub-blocks
            at = _skip_sub_blocks(data, at + 2)
        else:  # the trailer (0x3B) or garbage: Pillow stops there too
            break
    return Canvas(width, height, max(frames, 1))


def _png(data: bytes, frame_limit: int) -> Canvas | None:
    if len(data) < 24 or data[12:16] != b"IHDR":
        return None
    width, height = struct.unpack_from(">II", data, 16)
    declared = frame_controls = 0
    at = 8
    while at + 8 <= len(data) and frame_controls <= frame_limit:
        (length,) = struct.unpack_from(">I", data, at)
        kind = data[at + 4 : at + 8]
        if kind == b"acTL" and length >= 4:
            (declared,) = struct.unpack_from(">I", data, at + 8)
        elif kind == b"fcTL":
            frame_controls += 1
        elif kind == b"IEND":
            break
        at += 12 + length  # length, kind, body, CRC
    return Canvas(width, height, max(declared, frame_controls, 1))


def _u24(data: bytes, at: int) -> int:
    return int.from_bytes(data[at : at + 3], "little")


def _webp(data: bytes, frame_limit: int) -> Canvas | None:
    width = height = frames = 0
    at = 12
    while at + 8 <= len(data) and frames <= frame_limit:
        kind = data[at : at + 4]
        (length,) = struct.unpack_from("<I", data, at + 4)
        body = at + 8
        if kind == b"VP8X" and length >= 10:  # the canvas of an extended (e.g. animated) file
            width, height = _u24(data, body + 4) + 1, _u24(data, body + 7) + 1
        elif kind == b"ANMF":
            frames += 1
        elif kind == b"VP8L" and not width and length >= 5:  # a simple lossless file
            (bits,) = struct.unpack_from("<I", data, body + 1)
            width, height = (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
        elif kind == b"VP8 " and not width and length >= 10:  # a simple lossy file
            w, h = struct.unpack_from("<HH", data, body + 6)
            width, height = w & 0x3FFF, h & 0x3FFF
        at = body + length + (length & 1)  # chunks are padded to an even size
    if not width:
        return None
    return Canvas(width, height, max(frames, 1))
