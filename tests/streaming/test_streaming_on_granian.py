"""The streaming tests that matter most for the HTTP server, run again on granian (``cordee serve
--server granian``): server-sent events with Mastodon.py, several WebSocket streams on one
connection, token rejections, and a clean drain on SIGTERM. Each is the same test as on uvicorn,
imported: only ``stream_server`` differs."""

from __future__ import annotations

import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.streaming.conftest import Server, start_server
from tests.streaming.test_mastodon_py_streaming import (
    test_private_blocked_and_muted_notes_never_reach_the_wrong_stream,
    test_user_public_and_hashtag_streams,
)
from tests.streaming.test_websocket_streaming import (
    test_several_streams_on_one_connection,
    test_token_in_protocol_header_or_query_and_rejections,
)

__all__ = [
    "test_private_blocked_and_muted_notes_never_reach_the_wrong_stream",
    "test_several_streams_on_one_connection",
    "test_token_in_protocol_header_or_query_and_rejections",
    "test_user_public_and_hashtag_streams",
]

pytestmark = pytest.mark.clients


@pytest.fixture(scope="module")
def stream_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = start_server(tmp_path_factory.mktemp("granian"), CORDEE_SERVER="granian")
    try:
        yield server
    finally:
        code = server.stop()
        if code not in (0, -signal.SIGTERM):
            sys.stderr.write(f"cordee serve exited with {code}:\n{server.log.read_text(errors='replace')}\n")


def test_it_is_granian_answering(stream_server: Server) -> None:
    assert httpx.get(f"{stream_server.base_url}/api/v1/instance").headers["server"] == "granian"


def test_streams_are_drained_on_shutdown_on_granian(tmp_path: Path) -> None:
    server = start_server(tmp_path, CORDEE_SERVER="granian")
    user = server.user("leaving")
    with httpx.stream(
        "GET",
        f"{server.base_url}/api/v1/streaming/user",
        headers={"Authorization": f"Bearer {user.access_token}"},
        timeout=10,
    ) as response:
        assert response.status_code == 200
        lines = response.iter_lines()
        assert next(lines) == ":)"
        started = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        rest = list(lines)  # ends when the server closes the stream
        assert time.monotonic() - started < 5, "the stream was not closed promptly"
    assert all(line.startswith(":") or not line for line in rest)
    assert server.process.wait(15) in (0, -signal.SIGTERM)
    log = server.log.read_text(errors="replace")
    assert "Traceback" not in log, log
