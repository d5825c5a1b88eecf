"""Tiny video and audio files made on the spot with PyAV (no binary fixtures): a second of
colour frames, a second of a 440 Hz tone."""

from __future__ import annotations

import functools
import io
import math
import struct
import tempfile
from fractions import Fraction
from pathlib import Path

import av
from av.audio.stream import AudioStream
from av.container import OutputContainer
from av.stream import Disposition
from PIL import Image


def _tone(stream: AudioStream, box: OutputContainer, seconds: float) -> None:
    rate = stream.codec_context.sample_rate
    step = stream.codec_context.frame_size or 1024
    total = int(seconds * rate)
    for start in range(0, total, step):
        count = min(step, total - start)
        frame = av.AudioFrame(format="s16", layout="mono", samples=count)
        wave = b"".join(
            struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * (start + i) / rate)))
            for i in range(count)
        )
        frame.planes[0].update(wave + b"\0" * (frame.planes[0].buffer_size - len(wave)))
        frame.sample_rate, frame.pts, frame.time_base = rate, start, Fraction(1, rate)
        box.mux(stream.encode(frame))
    box.mux(stream.encode(None))


@functools.cache
def video(
    size: tuple[int, int] = (64, 64),
    seconds: float = 1.0,
    fps: int = 10,
    container: str = "mp4",
    audio: bool = True,
    rotation: int = 0,
) -> bytes:
    """MP4 (H.264 + AAC, its index first) or WebM (VP9 + Opus); ``rotation``: a display matrix
    turning it (counter-clockwise degrees), as phones record portrait video."""
    webm = container == "webm"
    options = {} if webm else {"movflags": "+faststart"}  # which rewrites the file: a real one
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / f"clip.{container}"
        _video(path, size, seconds, fps, container, audio, options, rotation)
        return path.read_bytes()


def _video(
    path: Path,
    size: tuple[int, int],
    seconds: float,
    fps: int,
    container: str,
    audio: bool,
    options: dict[str, str],
    rotation: int,
) -> None:
    webm = container == "webm"
    with av.open(str(path), "w", format=container, options=options) as box:
        v = box.add_stream("libvpx-vp9" if webm else "libx264", rate=fps)
        odd = size[0] % 2 or size[1] % 2  # x264 takes odd sides in 4:4:4 only
        v.width, v.height, v.pix_fmt = size[0], size[1], "yuv444p" if odd and not webm else "yuv420p"
        if rotation:
            v.set_display_rotation(rotation)
        a = box.add_stream("libopus" if webm else "aac", rate=48000, layout="mono") if audio else None
        for i in range(int(seconds * fps)):
            picture = Image.new("RGB", size, (i * 20 % 255, 80, 160))
            frame = av.VideoFrame.from_image(picture)
            frame.pts = i
            box.mux(v.encode(frame))
        box.mux(v.encode(None))
        if a is not None:
            _tone(a, box, seconds)


@functools.cache
def audio(container: str = "wav", seconds: float = 1.0, streams: int = 1) -> bytes:
    """WAV, Ogg (Opus), MP3 or FLAC; ``streams`` copies of the tone (a hostile file has many)."""
    codec = {"wav": "pcm_s16le", "ogg": "libopus", "mp3": "libmp3lame", "flac": "flac", "matroska": "flac"}
    out = io.BytesIO()
    with av.open(out, "w", format=container) as box:
        added = [box.add_stream(codec[container], rate=48000, layout="mono") for _ in range(streams)]
        for stream in added:
            _tone(stream, box, seconds)  # type: ignore[arg-type]
    return out.getvalue()


@functools.cache
def audio_with_cover(seconds: float = 1.0) -> bytes:
    """An MP3 whose ID3 tag carries cover art (a red square): the preview of an audio attachment."""
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "tone.mp3"
        with av.open(str(path), "w", format="mp3") as box:
            sound = box.add_stream("libmp3lame", rate=48000, layout="mono")
            cover = box.add_stream("mjpeg")
            cover.width, cover.height, cover.pix_fmt = 48, 48, "yuvj420p"
            cover.disposition = Disposition.attached_pic
            square = av.VideoFrame.from_image(Image.new("RGB", (48, 48), (200, 30, 30)))
            box.mux(cover.encode(square.reformat(format="yuvj420p")))
            box.mux(cover.encode(None))
            _tone(sound, box, seconds)
        return path.read_bytes()
