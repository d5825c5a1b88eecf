"""Mastodon.py, unchanged, against ``cordee serve --server granian``: the same tests as on uvicorn
(imported; only ``server`` differs) — OAuth and password log-in, posting, replies and deletion,
follows and the home timeline, favourites, boosts and notifications, ``Link`` pagination, and a
private note kept from non-followers."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.clients.conftest import Server, serving
from tests.clients.test_mastodon_py import (  # noqa: F401 (collected here on granian)
    app_keys,
    new_user,
    test_create_app_and_log_in_with_password,
    test_favourite_reblog_and_notifications,
    test_follow_and_home_timeline,
    test_pagination_over_many_notes,
    test_post_reply_context_and_delete,
    test_private_note_is_only_for_followers,
)

pytestmark = pytest.mark.clients


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serving(tmp_path_factory.mktemp("granian"), CORDEE_SERVER="granian") as running:
        yield running


def test_it_is_granian_answering(server: Server) -> None:
    assert httpx.get(f"{server.base_url}/api/v1/instance").headers["server"] == "granian"
