"""The streaming tests that matter most for the HTTP server, run again on granian (``cordee serve
--server granian``): server-sent events with Mastodon.py, several WebSocket streams on one
connection, and token rejections. Each is the same test as on uvicorn, imported: only
``stream_server`` differs (the drain on SIGTERM is run on both in ``test_scale_out_and_shutdown``)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.streaming.conftest import Server, serving
from tests.streaming.test_mastodon_py_streaming import (  # noqa: F401 (collected here on granian)
    test_private_blocked_and_muted_notes_never_reach_the_wrong_stream,
    test_user_public_and_hashtag_streams,
)
from tests.streaming.test_websocket_streaming import (  # noqa: F401 (collected here on granian)
    test_several_streams_on_one_connection,
    test_token_in_protocol_header_or_query_and_rejections,
)

pytestmark = pytest.mark.clients


@pytest.fixture(scope="module")
def stream_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serving(tmp_path_factory.mktemp("granian"), CORDEE_SERVER="granian") as server:
        yield server


def test_it_is_granian_answering(stream_server: Server) -> None:
    assert httpx.get(f"{stream_server.base_url}/api/v1/instance").headers["server"] == "granian"
