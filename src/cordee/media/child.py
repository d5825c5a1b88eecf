"""The child process that decodes one upload: ``python -m cordee.media.child``.

It caps itself (address space and CPU time) before reading the file, processes it with
``cordee.media.images`` and writes the result to its standard output. The wire format is a JSON
line and raw bytes, not pickle, so a child subverted by a crafted file cannot run code in the
server by what it sends back.

Request (stdin):  a JSON line ``{"limits": {...}, "memory_bytes": n, "cpu_seconds": n, "kind": k}``,
                  then the file; ``kind`` is ``"media"`` (an attachment), ``"avatar"`` or ``"header"``.
                  For video and audio (``"av-probe"``, ``"av-process"``) the line names the file and
                  an output directory instead (``cordee.media.av_workers``), and nothing follows it.
Reply (stdout):   a JSON line ``{"status": "ok", "original": {...}, "small": {...}, "blurhash": "..."}``
                  then the original's and the preview's bytes; or ``{"status": "rejected", "reason": ...}``
                  (the reason is for the person) or ``{"status": "failed", "error": ...}`` (a bug).
"""

from __future__ import annotations

import json
import resource
import sys
from dataclasses import asdict
from typing import Any

from cordee.media.images import (
    PROFILE_SIZES,
    ImageLimits,
    MediaRejected,
    ProcessedImage,
    Rendition,
    process_image,
    process_profile_image,
)

#: Said to the person whenever the child dies, is killed or fails without a reason of its own.
FAILED = "File could not be processed: it needs too much memory or time, or it is damaged"


def request(
    data: bytes, limits: ImageLimits, memory_bytes: int, cpu_seconds: int, kind: str = "media"
) -> bytes:
    head = {"limits": asdict(limits), "memory_bytes": memory_bytes, "cpu_seconds": cpu_seconds, "kind": kind}
    return json.dumps(head).encode() + b"\n" + data


def _rendition_head(r: Rendition) -> dict[str, Any]:
    return {
        "content_type": r.content_type,
        "extension": r.extension,
        "width": r.width,
        "height": r.height,
        "size": len(r.data),
    }


def _reply(image: ProcessedImage) -> bytes:
    head = {
        "status": "ok",
        "original": _rendition_head(image.original),
        "small": _rendition_head(image.small),
        "blurhash": image.blurhash,
    }
    return json.dumps(head).encode() + b"\n" + image.original.data + image.small.data


def _rendition(head: dict[str, Any], body: bytes) -> Rendition:
    r = Rendition(body, str(head["content_type"]), str(head["extension"]), head["width"], head["height"])
    if not (isinstance(r.width, int) and isinstance(r.height, int) and r.extension.isalnum()):
        raise ValueError("a malformed rendition")
    return r


def read_reply(out: bytes) -> ProcessedImage:
    """The child's answer: the image, or ``MediaRejected``; ``ValueError`` if it makes no sense."""
    line, _, rest = out.partition(b"\n")
    head = json.loads(line)
    if head.get("status") == "rejected":
        raise MediaRejected(str(head["reason"]))
    if head.get("status") != "ok":
        raise ValueError(f"the child failed: {head.get('error')}")
    first, second = int(head["original"]["size"]), int(head["small"]["size"])
    if first + second != len(rest):
        raise ValueError("a reply of the wrong length")
    return ProcessedImage(
        _rendition(head["original"], rest[:first]),
        _rendition(head["small"], rest[first:]),
        str(head["blurhash"]),
    )


def _av(head: dict[str, Any]) -> bytes:
    """Video and audio (``cordee.media.video``): the file is read from, and the results written to,
    paths the server chose; only a JSON line comes back."""
    from pathlib import Path

    from cordee.media import video

    limits = video.AvLimits(**head["av_limits"])
    path, container, declared = Path(head["path"]), str(head["container"]), head.get("declared")
    try:
        if head["kind"] == "av-probe":
            answer = video.probe_reply(path, container, limits, declared)
        else:
            answer = video.process_reply(path, container, limits, Path(head["out_dir"]), declared)
    except MediaRejected as e:
        answer = {"status": "rejected", "reason": str(e)}
    except MemoryError:
        answer = {"status": "rejected", "reason": FAILED}
    except Exception as e:  # a decoder's bug met by a crafted file is still a refusal, not a 500
        answer = {"status": "failed", "error": f"{type(e).__name__}: {e}"}
    return json.dumps(answer).encode()


def main() -> None:
    head = json.loads(sys.stdin.buffer.readline())
    memory, cpu = int(head["memory_bytes"]), int(head["cpu_seconds"])
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    # Past the soft limit the kernel sends SIGXCPU (which kills), past the hard one SIGKILL.
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    if str(head.get("kind", "")).startswith("av-"):
        # No file written may be larger than this (SIGXFSZ kills the child past it).
        size = int(head["max_file_bytes"])
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
        sys.stdout.buffer.write(_av(head))
        sys.stdout.buffer.flush()
        return
    data = sys.stdin.buffer.read()
    kind, limits = str(head.get("kind", "media")), ImageLimits(**head["limits"])
    try:
        if kind in PROFILE_SIZES:
            reply = _reply(process_profile_image(data, limits, kind))
        else:
            reply = _reply(process_image(data, limits))
    except MediaRejected as e:
        reply = json.dumps({"status": "rejected", "reason": str(e)}).encode()
    except MemoryError:
        reply = json.dumps({"status": "rejected", "reason": FAILED}).encode()
    except Exception as e:  # a decoder's bug met by a crafted file is still a refusal, not a 500
        reply = json.dumps({"status": "failed", "error": f"{type(e).__name__}: {e}"}).encode()
    sys.stdout.buffer.write(reply)
    sys.stdout.buffer.flush()


if __name__ == "__main__":
    main()
