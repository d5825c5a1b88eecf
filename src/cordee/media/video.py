"""Probing and transcoding uploaded video and audio with PyAV (FFmpeg's libraries, shipped in its
wheel). Pure CPU work on hostile bytes: it runs only in the capped child (``cordee.media.child``).

- The container is recognised from the file's first bytes (``sniff``) and opened with that one
  demuxer: FFmpeg never guesses, so no playlist or concatenation demuxer can be made to read other
  files. Only common codecs are decoded.
- Before any decoding, the headers are checked against ``AvLimits``: streams, dimensions, frame
  rate, duration. Decoding holds to the same budget whatever the headers said (a frame count and a
  sample count), and a truncated or corrupt file is refused.
- Video becomes H.264 (yuv420p, even dimensions, frame rate capped, bit rate capped like Mastodon's
  ``maxrate 1300K``) with AAC audio in an MP4 with its index first (``faststart``), without any of
  the original's metadata. Audio becomes MP3, as Mastodon serves it. A poster frame (the first
  frame, or the cover art of an audio file) is the preview, with a blurhash.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import av.error
from av.audio.stream import AudioStream
from av.container import InputContainer
from av.stream import Discard
from av.video.frame import VideoFrame
from av.video.stream import VideoStream
from PIL import Image

from cordee.media.av_limits import AvLimits as AvLimits  # re-exported for the child
from cordee.media.images import MediaRejected, _blurhash, _small
from cordee.media.sniff import declared_family

#: Container (the demuxer opened for it) → (MIME type family, name for messages).
CONTAINERS = {"mp4": "MP4/QuickTime", "matroska": "WebM/Matroska", "ogg": "Ogg", "wav": "WAV",
              "flac": "FLAC", "mp3": "MP3", "aac": "AAC"}  # fmt: skip
VIDEO_CODECS = frozenset({"h264", "hevc", "vp8", "vp9", "av1", "mpeg4", "theora"})
AUDIO_CODECS = frozenset({"aac", "mp3", "opus", "vorbis", "flac", "alac", "pcm_s16le", "pcm_s24le",
                          "pcm_s32le", "pcm_f32le", "pcm_u8", "pcm_s16be"})  # fmt: skip
#: Streams of a file (video, audio, subtitles, data): phones add a few metadata tracks, no more.
MAX_STREAMS = 8
#: Neither side of a video may be longer than this, whatever the pixel budget.
MAX_SIDE = 8192
#: Mastodon's ``maxrate``/``bufsize`` for the H.264 it makes.
VIDEO_MAX_RATE = "1300k"
AUDIO_BITRATE = 128_000
MP3_BITRATE = 192_000  # about what Mastodon's ``-q:a 2`` (VBR) gives
AUDIO_MAX_RATE = 48_000
#: A file whose decoding stops before this share of the duration its headers give is truncated.
TRUNCATED = 0.9


@dataclass
class Probe:
    """What the headers say; ``type`` is "video" or "audio"."""

    type: str
    width: int = 0
    height: int = 0
    frame_rate: Fraction = Fraction(0)
    duration: float = 0.0
    #: The frame rate the output gets (the input's, capped).
    out_rate: Fraction = Fraction(0)
    out_size: tuple[int, int] = (0, 0)
    has_audio: bool = False
    has_cover: bool = False
    meta: dict[str, Any] = field(default_factory=dict)


_CORRUPT = "File could not be read as video or audio: it is corrupt or truncated"
_UNSUPPORTED = "File type is not supported: images (JPEG, PNG, GIF, WebP), video (MP4, WebM, MOV) and audio (MP3, Ogg, WAV, FLAC, M4A) are accepted"  # noqa: E501


@contextlib.contextmanager
def _open(path: Path, container: str) -> Iterator[InputContainer]:
    demuxer = "mov" if container == "mp4" else container
    with path.open("rb") as file:
        try:
            # Only this demuxer; a file object, so FFmpeg opens nothing else by name.
            box = av.open(
                file, "r", format=demuxer, options={"probesize": "5000000", "analyzeduration": "5000000"}
            )
        except (av.error.FFmpegError, ValueError, OSError):
            raise MediaRejected(_CORRUPT) from None
        with box:
            yield box


def _is_cover(stream: Any) -> bool:
    return bool(stream.disposition & av.stream.Disposition.attached_pic)


def _streams(box: InputContainer) -> tuple[VideoStream | None, AudioStream | None, VideoStream | None]:
    if len(box.streams) > MAX_STREAMS:
        raise MediaRejected(f"Files with more than {MAX_STREAMS} streams are not supported")
    videos = [s for s in box.streams.video if not _is_cover(s)]
    covers = [s for s in box.streams.video if _is_cover(s)]
    audios = list(box.streams.audio)
    video = videos[0] if videos else None
    audio = audios[0] if audios else None
    if video is not None and video.codec_context.codec.canonical_name not in VIDEO_CODECS:
        raise MediaRejected(f"Video encoded as {video.codec_context.codec.canonical_name} is not supported")
    if audio is not None and audio.codec_context.codec.canonical_name not in AUDIO_CODECS:
        raise MediaRejected(f"Audio encoded as {audio.codec_context.codec.canonical_name} is not supported")
    if video is None and audio is None:
        raise MediaRejected("File has neither video nor audio")
    cover = covers[0] if covers and covers[0].codec_context.codec.canonical_name in ("mjpeg", "png") else None
    return video, audio, cover


def _duration(box: InputContainer, *streams: Any) -> float:
    if box.duration is not None and box.duration > 0:
        return box.duration / av.time_base
    for s in streams:
        if s is not None and s.duration and s.time_base:
            return float(s.duration * s.time_base)
    return 0.0


def _even(width: int, height: int) -> tuple[int, int]:
    """Even dimensions (yuv420p needs them) no larger than the input."""
    w, h = width - width % 2, height - height % 2
    return max(2, w), max(2, h)


def probe(path: Path, container: str, limits: AvLimits, declared: str | None = None) -> Probe:
    """Check a file's headers against the limits; raises ``MediaRejected`` with the reason."""
    size = path.stat().st_size
    if size == 0:
        raise MediaRejected("File is empty")
    if size > limits.max_bytes:
        raise MediaRejected(f"File is too large: the limit is {limits.max_bytes // (1024 * 1024)} MB")
    with _open(path, container) as box:
        video, audio, cover = _streams(box)
        found = Probe("video" if video is not None else "audio", has_audio=audio is not None)
        family = declared_family(declared)
        if family is not None and family not in ("video", "audio"):
            raise MediaRejected(
                f"File type does not match its content: declared {declared}, but it is video or audio"
            )
        if family == "audio" and video is not None:
            raise MediaRejected(
                f"File type does not match its content: declared {declared}, but it holds video"
            )
        found.duration = _duration(box, video, audio)
        if found.duration > limits.max_seconds:
            raise MediaRejected(f"File is too long: the limit is {limits.max_seconds} seconds")
        if video is not None:
            found.width, found.height = video.codec_context.width, video.codec_context.height
            if not (0 < found.width <= MAX_SIDE and 0 < found.height <= MAX_SIDE):
                raise MediaRejected(f"Video dimensions are not supported: {found.width}×{found.height}")
            if found.width * found.height > limits.max_pixels:
                shape = f"{found.width}×{found.height}"
                raise MediaRejected(
                    f"Video is too large: {shape} pixels (the limit is {limits.max_pixels} pixels)"
                )
            rate = video.average_rate or video.guessed_rate or Fraction(30)
            found.frame_rate = Fraction(rate)
            found.out_rate = min(found.frame_rate, Fraction(limits.max_frame_rate)).limit_denominator(1001)
            found.out_size = _even(found.width, found.height)
        else:
            found.has_cover = cover is not None
    return found


class _Budget:
    """Counts what decoding produces, so a file whose headers lie still costs what they allowed."""

    def __init__(self, limits: AvLimits, probed: Probe) -> None:
        seconds = limits.max_seconds + 1
        self.max_frames = int(seconds * max(probed.out_rate, Fraction(1))) + 2
        self.max_samples = seconds * 192_000
        self.frames = 0
        self.samples = 0
        #: How far into the file decoding got, in seconds (a truncated file stops short).
        self.reached = 0.0

    def at(self, frame: Any) -> None:
        if frame.time is not None:
            end = frame.time + (frame.samples / frame.sample_rate if hasattr(frame, "sample_rate") else 0)
            self.reached = max(self.reached, float(end))

    def frame(self) -> None:
        self.frames += 1
        if self.frames > self.max_frames:
            raise MediaRejected("File is too long: it holds more frames than its duration allows")

    def audio(self, samples: int) -> None:
        self.samples += samples
        if self.samples > self.max_samples:
            raise MediaRejected("File is too long: it holds more sound than its duration allows")


def _pull(graph: av.filter.Graph) -> Iterator[Any]:
    while True:
        try:
            yield graph.pull()
        except (av.error.BlockingIOError, av.error.EOFError):
            return


#: A frame's display rotation (counter-clockwise degrees, from the container's display matrix, as
#: phones record portrait video) → the filters that turn the pixels upright, as ffmpeg's autorotate.
_UPRIGHT = {
    90: (("transpose", "cclock"),),
    180: (("hflip", None), ("vflip", None)),
    270: (("transpose", "clock"),),
}


def _turned(rotation: int) -> bool:
    return rotation % 360 in (90, 270)


def _video_graph(stream: VideoStream, probed: Probe, rotation: int) -> av.filter.Graph:
    """Upright, at most ``out_rate`` frames per second, even dimensions, yuv420p."""
    graph = av.filter.Graph()
    width, height = probed.out_size
    if _turned(rotation):
        width, height = height, width
    rate = probed.out_rate
    graph.link_nodes(
        graph.add_buffer(template=stream),
        *(graph.add(name, args) for name, args in _UPRIGHT.get(rotation % 360, ())),
        graph.add("fps", f"fps={rate.numerator}/{rate.denominator}"),
        graph.add("scale", f"{width}:{height}"),
        graph.add("format", "pix_fmts=yuv420p"),
        graph.add("buffersink"),
    ).configure()
    return graph


def _layout(stream: AudioStream) -> str:
    return "mono" if stream.codec_context.channels == 1 else "stereo"


@dataclass
class Output:
    """What ``transcode`` wrote: the stored file's type and extension, the poster (if any)."""

    content_type: str
    extension: str
    poster: Image.Image | None


def _poster(frame: VideoFrame) -> Image.Image:
    picture: Image.Image = frame.to_image()  # type: ignore[no-untyped-call]
    return picture.convert("RGB")


def transcode(path: Path, container: str, probed: Probe, limits: AvLimits, out_path: Path) -> Output:
    """Write the web-friendly file to ``out_path``; raises ``MediaRejected`` on a corrupt file."""
    try:
        return _transcode(path, container, probed, limits, out_path)
    except av.error.FFmpegError:
        raise MediaRejected(_CORRUPT) from None


def _transcode(path: Path, container: str, probed: Probe, limits: AvLimits, out_path: Path) -> Output:
    budget = _Budget(limits, probed)
    poster: Image.Image | None = None
    is_video = probed.type == "video"
    muxer = {"format": "mp4", "options": {"movflags": "+faststart"}} if is_video else {"format": "mp3"}
    with _open(path, container) as box, av.open(str(out_path), "w", **muxer) as out:
        vin, ain, cover = _streams(box)
        for s in box.streams:
            # The other streams are not even decoded.
            s.discard = Discard.default if s in (vin, ain, cover) else Discard.all
        vout = graph = aout = resampler = None
        if is_video and vin is not None:
            vin.thread_count = 2
            vout = out.add_stream("libx264", rate=probed.out_rate)
            vout.width, vout.height = probed.out_size  # turned at the first frame if it must be
            vout.pix_fmt = "yuv420p"
            vout.thread_count = 2
            vout.codec_context.options = {
                "preset": "veryfast", "crf": "18", "maxrate": VIDEO_MAX_RATE, "bufsize": VIDEO_MAX_RATE,
            }  # fmt: skip
        if ain is not None:
            rate = min(ain.codec_context.sample_rate or 44_100, AUDIO_MAX_RATE)
            if is_video:
                aout = out.add_stream("aac", rate=rate, layout=_layout(ain))
                aout.bit_rate = AUDIO_BITRATE
            else:
                aout = out.add_stream("libmp3lame", rate=rate, layout=_layout(ain))
                aout.bit_rate = MP3_BITRATE
            resampler = av.AudioResampler(
                format=aout.codec_context.format.name if aout.codec_context.format else "fltp",
                layout=_layout(ain),
                rate=rate,
                frame_size=aout.codec_context.frame_size or None,
            )
        # Nothing of the original's metadata is written: the output's own containers start empty.
        for packet in box.demux(*(s for s in (vin, ain, cover) if s is not None)):
            stream = packet.stream
            for frame in packet.decode():
                if stream is cover:
                    if poster is None:
                        poster = _poster(frame)  # type: ignore[arg-type]
                elif stream is vin and vout is not None:
                    budget.frame()
                    budget.at(frame)
                    if graph is None:  # the encoder opens at its first frame: its size may still change
                        rotation = int(frame.rotation)  # type: ignore[union-attr]
                        graph = _video_graph(vin, probed, rotation)
                        if _turned(rotation):
                            vout.width, vout.height = probed.out_size[1], probed.out_size[0]
                    graph.push(frame)  # type: ignore[arg-type]
                    for filtered in _pull(graph):
                        if poster is None:
                            poster = _poster(filtered)
                        out.mux(vout.encode(filtered))
                elif stream is ain and resampler is not None and aout is not None:
                    budget.audio(frame.samples)  # type: ignore[union-attr]
                    budget.at(frame)
                    for chunk in resampler.resample(frame):  # type: ignore[arg-type]
                        out.mux(aout.encode(chunk))
        if graph is not None and vout is not None:
            graph.push(None)
            for filtered in _pull(graph):
                out.mux(vout.encode(filtered))
            out.mux(vout.encode(None))
        if resampler is not None and aout is not None:
            for chunk in resampler.resample(None):
                out.mux(aout.encode(chunk))
            out.mux(aout.encode(None))
    if probed.duration > 0.5 and budget.reached < probed.duration * TRUNCATED:
        raise MediaRejected(_CORRUPT)  # the headers promised more than the file holds
    if is_video and (poster is None or budget.frames == 0):
        raise MediaRejected(_CORRUPT)
    if not is_video and budget.samples == 0:
        raise MediaRejected(_CORRUPT)
    if is_video:
        return Output("video/mp4", "mp4", poster)
    return Output("audio/mpeg", "mp3", poster)


def _length(seconds: float) -> str:
    """Mastodon's ``length``: ``H:MM:SS.ss``."""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{int(hours)}:{int(minutes):02d}:{secs:05.2f}"


def describe(out_path: Path) -> dict[str, Any]:
    """``meta`` of Mastodon's MediaAttachment for the file written (without ``small``/``focus``)."""
    with av.open(str(out_path), "r") as box:
        duration = round(_duration(box, *box.streams), 3)
        bitrate = int(box.bit_rate or 0)
        meta: dict[str, Any] = {"length": _length(duration), "duration": duration}
        original: dict[str, Any] = {"duration": duration, "bitrate": bitrate}
        if box.streams.video:
            v = box.streams.video[0]
            width, height = v.codec_context.width, v.codec_context.height
            rate = Fraction(v.average_rate or v.guessed_rate or 0)
            meta.update(
                fps=round(float(rate)) if rate else 0,
                size=f"{width}x{height}",
                width=width,
                height=height,
                aspect=width / height,
            )
            fraction = f"{rate.numerator}/{rate.denominator}"
            original = {"width": width, "height": height, "frame_rate": fraction, **original}
        if box.streams.audio:
            a = box.streams.audio[0]
            meta.update(
                audio_encode=a.codec_context.codec.canonical_name,
                audio_bitrate=f"{a.codec_context.sample_rate} Hz",
                audio_channels="mono" if a.codec_context.channels == 1 else "stereo",
            )
        meta["original"] = original
        return meta


@dataclass
class Processed:
    type: str
    content_type: str
    extension: str
    meta: dict[str, Any]
    width: int | None
    height: int | None
    #: The poster as a preview (JPEG), or None (audio without cover art).
    small: bytes | None
    small_size: tuple[int, int] | None
    blurhash: str | None


def process(path: Path, container: str, limits: AvLimits, out_path: Path, declared: str | None) -> Processed:
    """Probe, transcode and describe one file: what the child does for a video or audio upload."""
    av.logging.set_level(None)  # FFmpeg's own messages say nothing the person needs
    probed = probe(path, container, limits, declared)
    output = transcode(path, container, probed, limits, out_path)
    meta = describe(out_path)
    small = size = blurhash = None
    if output.poster is not None:
        rendition = _small(output.poster, "JPEG")
        small, size, blurhash = rendition.data, (rendition.width, rendition.height), _blurhash(output.poster)
    return Processed(
        probed.type,
        output.content_type,
        output.extension,
        meta,
        meta.get("width"),
        meta.get("height"),
        small,
        size,
        blurhash,
    )


def probe_reply(path: Path, container: str, limits: AvLimits, declared: str | None) -> dict[str, Any]:
    """The child's answer to ``av-probe``: the headers' verdict, before the upload is queued."""
    av.logging.set_level(None)
    found = probe(path, container, limits, declared)
    return {"status": "ok", "type": found.type, "duration": found.duration}


def process_reply(
    path: Path, container: str, limits: AvLimits, out_dir: Path, declared: str | None
) -> dict[str, Any]:
    """The child's answer to ``av-process``: the files are written to ``out_dir`` (``original.<ext>``,
    ``small.jpg``), the rest is described here."""
    done = process(path, container, limits, out_dir / "original.out", declared)
    if done.small is not None:
        (out_dir / "small.out").write_bytes(done.small)
    return {
        "status": "ok",
        "type": done.type,
        "content_type": done.content_type,
        "extension": done.extension,
        "meta": done.meta,
        "width": done.width,
        "height": done.height,
        "small_size": list(done.small_size) if done.small_size else None,
        "blurhash": done.blurhash,
    }
