"""What an upload is, from its first bytes (and what the client declared): no decoding, so the
server process itself may do it (FFmpeg is loaded only in the child, ``cordee.media.video``)."""

from __future__ import annotations

#: What ``/api/v2/instance`` advertises besides images (the containers ``sniff`` knows).
VIDEO_MIME_TYPES = ["video/mp4", "video/webm", "video/quicktime", "video/ogg"]
AUDIO_MIME_TYPES = [
    "audio/mpeg", "audio/mp3", "audio/ogg", "audio/wav", "audio/wave", "audio/x-wav", "audio/flac",
    "audio/aac", "audio/mp4", "audio/m4a", "audio/x-m4a", "audio/webm", "audio/opus",
]  # fmt: skip


def sniff(head: bytes) -> str | None:
    """The container a file's first bytes announce ("mp4", "matroska", …), ``"image"`` for the
    image formats, or None."""
    if head[:3] == b"\xff\xd8\xff" or head[:8] == b"\x89PNG\r\n\x1a\n" or head[:6] in (b"GIF87a", b"GIF89a"):
        return "image"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image"
    if head[4:8] == b"ftyp" or head[4:8] in (b"moov", b"mdat", b"wide", b"free"):
        return "mp4"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "matroska"
    if head[:4] == b"OggS":
        return "ogg"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head[:4] == b"fLaC":
        return "flac"
    if head[:3] == b"ID3":
        return "mp3"
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:
        layer = (head[1] >> 1) & 0x3
        return "aac" if layer == 0 else "mp3"  # ADTS has layer 0, MPEG audio layers 1-3
    return None


def declared_family(mime: str | None) -> str | None:
    """``"video"``, ``"audio"`` or ``"image"`` for a declared type that names one; None for the
    generic ones a client sends when it does not know (no check is then possible)."""
    if not mime:
        return None
    family = mime.split(";")[0].strip().lower().split("/")[0]
    if mime.lower().startswith("application/octet-stream"):
        return None
    return family
