"""Video and audio processing in capped child processes (``python -m cordee.media.child``), as
``cordee.media.workers`` does for images, with larger caps: memory, CPU time, wall-clock time and
the size of every file the child writes (``RLIMIT_FSIZE``).

The upload is not sent through a pipe: it already waits on disk (``cordee.media.incoming``) and
the child writes its results to a fresh directory next to it, which the server reads back (only
the two names it expects, within a size cap) and removes.
"""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import sys
import tempfile
import weakref
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from cordee.config import Settings
from cordee.media.av_limits import AvLimits
from cordee.media.child import FAILED
from cordee.media.images import MediaRejected
from cordee.media.workers import _exchange, _TooLong

log = logging.getLogger(__name__)


def av_limits(settings: Settings) -> AvLimits:
    return AvLimits(
        max_bytes=settings.video_size_limit,
        max_pixels=settings.video_matrix_limit,
        max_frame_rate=settings.video_frame_rate_limit,
        max_seconds=settings.media_duration_limit,
    )


@dataclass(frozen=True)
class AvResult:
    type: str
    content_type: str
    extension: str
    data: bytes
    meta: dict[str, Any]
    width: int | None
    height: int | None
    small: bytes | None
    small_size: tuple[int, int] | None
    blurhash: str | None


class AvWorkers:
    """At most ``video_workers`` children at once in this process (a probe is quick and does not
    wait for a slot held by a long transcoding: it has its own)."""

    def __init__(self, settings: Settings) -> None:
        self.limits = av_limits(settings)
        self._memory = settings.video_worker_memory_mb * 1024 * 1024
        self._cpu = settings.video_worker_cpu_seconds
        self.timeout = settings.video_worker_timeout
        self._max_file = 2 * settings.video_size_limit + 16 * 1024 * 1024
        self._slots = asyncio.Semaphore(settings.video_workers)
        self._probes = asyncio.Semaphore(settings.video_workers)

    async def _run(self, head: dict[str, Any], seconds: float) -> dict[str, Any]:
        head |= {
            "memory_bytes": self._memory,
            "cpu_seconds": self._cpu,
            "av_limits": asdict(self.limits),
            "max_file_bytes": self._max_file,
        }
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "cordee.media.child",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            out, err = await asyncio.wait_for(
                _exchange(child, json.dumps(head).encode() + b"\n", 1024 * 1024), seconds
            )
        except TimeoutError:
            log.warning("video/audio processing took longer than %ss: killed", seconds)
            raise MediaRejected(FAILED) from None
        except _TooLong:
            raise MediaRejected(FAILED) from None
        finally:
            if child.returncode is None:  # also on cancellation: the server stops
                child.kill()
                await child.wait()
        try:
            answer = json.loads(out)
            status = answer["status"]
        except (ValueError, KeyError, TypeError):
            answer, status = {}, None
        if status == "rejected":
            raise MediaRejected(str(answer["reason"]))
        if status != "ok":
            log.warning(
                "video/audio processing failed (exit code %s): %s %s",
                child.returncode,
                out[:300].decode(errors="replace"),
                err[-2000:].decode(errors="replace"),
            )
            raise MediaRejected(FAILED)
        return answer  # type: ignore[no-any-return]

    async def probe(self, path: Path, container: str, declared: str | None) -> str:
        """ "video" or "audio" if the headers are within the limits; ``MediaRejected`` otherwise."""
        async with self._probes:
            head = {"kind": "av-probe", "path": str(path), "container": container, "declared": declared}
            answer = await self._run(head, min(self.timeout, 30.0))
        kind = answer.get("type")
        if kind not in ("video", "audio"):
            raise MediaRejected(FAILED)
        return str(kind)

    async def process(self, path: Path, container: str, declared: str | None) -> AvResult:
        """The transcoded file, its poster and ``meta``; ``MediaRejected`` with the reason."""
        async with self._slots:
            work = Path(tempfile.mkdtemp(prefix=".work-", dir=path.parent))
            try:
                head = {
                    "kind": "av-process",
                    "path": str(path),
                    "container": container,
                    "declared": declared,
                    "out_dir": str(work),
                }
                answer = await self._run(head, self.timeout)
                return await asyncio.to_thread(_result, answer, work, self._max_file)
            finally:
                await asyncio.to_thread(shutil.rmtree, work, True)


def _result(answer: dict[str, Any], work: Path, cap: int) -> AvResult:
    """The child's files and description, checked: it ran hostile input, so nothing is taken on trust."""
    try:
        original = work / "original.out"
        small_path = work / "small.out"
        if original.stat().st_size > cap:
            raise ValueError("too large")
        small = small_path.read_bytes() if small_path.exists() else None
        size = answer.get("small_size")
        small_size = (int(size[0]), int(size[1])) if small is not None and size else None
        extension = str(answer["extension"])
        if answer["type"] not in ("video", "audio") or extension not in ("mp4", "mp3"):
            raise ValueError("unexpected output")
        width, height = answer.get("width"), answer.get("height")
        return AvResult(
            type=str(answer["type"]),
            content_type="video/mp4" if extension == "mp4" else "audio/mpeg",
            extension=extension,
            data=original.read_bytes(),
            meta=dict(answer["meta"]),
            width=int(width) if width is not None else None,
            height=int(height) if height is not None else None,
            small=small,
            small_size=small_size,
            blurhash=str(answer["blurhash"]) if answer.get("blurhash") else None,
        )
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        log.warning("video/audio processing gave an unusable answer: %.300s", answer)
        raise MediaRejected(FAILED) from None


#: One set of workers per event loop and settings (a server process has one loop; tests have one
#: per test, and sometimes settings of their own).
_shared: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[Settings, AvWorkers]] = (
    weakref.WeakKeyDictionary()
)


def shared_workers(settings: Settings) -> AvWorkers:
    """This process's video and audio workers, for the API (probes, v1 uploads) and the job alike."""
    known = _shared.setdefault(asyncio.get_running_loop(), {})
    workers = known.get(settings)
    if workers is None:
        workers = known[settings] = AvWorkers(settings)
    return workers
