"""Image processing in short-lived child processes with a memory and a CPU-time cap.

Decoding hostile bytes is the one thing the server does whose cost the sender chooses. The header
checks in ``images`` bound the known ways to make it expensive; this bounds the unknown ones: each
upload is processed by its own ``python -m cordee.media.child`` (``cordee.media.child``), under
``RLIMIT_AS`` (memory) and ``RLIMIT_CPU`` (the kernel kills it past the limit), with a wall-clock
timeout on top. A child that dies or is killed makes that upload answer 422, nothing else.

Why a fresh interpreter per upload (about 0.1 s) rather than ``multiprocessing`` or a
``ProcessPoolExecutor``: their ``spawn`` and ``forkserver`` children re-run the server's main
module (two seconds of imports per child, or worse with a script run without a ``__main__``
guard), ``fork`` from a threaded asyncio server is unsafe, a pool whose worker dies is broken for
every upload in flight, a running task cannot be cancelled, and a CPU limit would add up over a
long-lived worker's tasks. At most ``image_workers`` children run at once per server process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from dataclasses import replace

from cordee.config import Settings
from cordee.media.child import FAILED, read_reply, request
from cordee.media.images import ImageLimits, MediaRejected, ProcessedImage

log = logging.getLogger(__name__)


def image_limits(settings: Settings) -> ImageLimits:
    return ImageLimits(
        max_bytes=settings.image_size_limit,
        max_pixels=settings.image_matrix_limit,
        max_frames=settings.image_frame_limit,
        max_animation_pixels=settings.image_animation_pixel_limit,
    )


class _TooLong(Exception):
    pass


async def _read(stream: asyncio.StreamReader, cap: int, *, strict: bool) -> bytes:
    """All a stream says up to ``cap`` bytes; past it, ``_TooLong`` if ``strict``, else the rest is
    dropped (a child's stderr must still be drained, or it would block on a full pipe)."""
    chunks: list[bytes] = []
    size = 0
    while chunk := await stream.read(64 * 1024):
        size += len(chunk)
        if size <= cap:
            chunks.append(chunk)
        elif strict:
            raise _TooLong()
    return b"".join(chunks)


async def _exchange(child: asyncio.subprocess.Process, message: bytes, cap: int) -> tuple[bytes, bytes]:
    """Send the request, read the reply (at most ``cap`` bytes) and the child's error output."""
    assert child.stdin is not None and child.stdout is not None and child.stderr is not None
    stdin = child.stdin

    async def feed() -> None:
        stdin.write(message)
        # A child that died early cannot read: its exit code and silence tell what happened.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            await stdin.drain()
        stdin.close()

    _, out, err = await asyncio.gather(
        feed(), _read(child.stdout, cap, strict=True), _read(child.stderr, 16 * 1024, strict=False)
    )
    await child.wait()
    return out, err


class ImageWorkers:
    """The image processing of one server process: at most ``image_workers`` children at once,
    all killed when the server stops. Nothing is started before the first upload."""

    def __init__(self, settings: Settings) -> None:
        self.limits = image_limits(settings)
        self._memory = settings.image_worker_memory_mb * 1024 * 1024
        self._cpu = settings.image_worker_cpu_seconds
        self._timeout = settings.image_worker_timeout
        #: What the server accepts to read back (a re-encoded file may be larger than the upload).
        self._reply_cap = 4 * settings.image_size_limit + 64 * 1024
        self._slots = asyncio.Semaphore(settings.image_workers)
        self._children: set[asyncio.subprocess.Process] = set()

    async def process(self, data: bytes, kind: str = "media", max_bytes: int | None = None) -> ProcessedImage:
        """The processed image, or ``MediaRejected`` with the reason. ``kind`` is ``"media"`` (an
        attachment) or a profile image (``"avatar"``, ``"header"``: see ``images.PROFILE_SIZES``);
        ``max_bytes`` lowers the size limit for this file."""
        limits = self.limits if max_bytes is None else replace(self.limits, max_bytes=max_bytes)
        async with self._slots:
            child = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "cordee.media.child",
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            self._children.add(child)
            try:
                out, err = await asyncio.wait_for(
                    _exchange(child, request(data, limits, self._memory, self._cpu, kind), self._reply_cap),
                    self._timeout,
                )
            except TimeoutError:
                log.warning("image processing took longer than %ss: killed", self._timeout)
                raise MediaRejected(FAILED) from None
            except _TooLong:
                log.warning("image processing answered more than %s bytes: killed", self._reply_cap)
                raise MediaRejected(FAILED) from None
            finally:
                # Also on cancellation (the client went away, the server stops).
                if child.returncode is None:
                    child.kill()
                    await child.wait()
                self._children.discard(child)
        try:
            return read_reply(out)
        except MediaRejected:
            raise
        except (ValueError, KeyError, TypeError):
            log.warning(
                "image processing failed (exit code %s): %s %s",
                child.returncode,
                out[:300].decode(errors="replace"),
                err[-2000:].decode(errors="replace"),
            )
            raise MediaRejected(FAILED) from None

    async def close(self) -> None:
        for child in list(self._children):
            if child.returncode is None:
                child.kill()
