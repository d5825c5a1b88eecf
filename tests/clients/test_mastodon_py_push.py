"""Mastodon.py, unchanged: a Web Push subscription set, read, changed and removed, with the keys
its own helper makes (delivery and decryption are tested in tests/api/test_push.py)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from mastodon import Mastodon, MastodonAPIError, MastodonNotFoundError

from tests.clients.conftest import PASSWORD, Server

pytestmark = pytest.mark.clients

SCOPES = ["read", "write", "follow", "push"]


@pytest.fixture
def pushing_user(server: Server, unique: Callable[[str], str]) -> Mastodon:
    client_id, client_secret = Mastodon.create_app(
        "Cordée push tests", api_base_url=server.base_url, scopes=SCOPES
    )
    username = unique("mppush")
    api = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=server.base_url)
    token = api.create_account(username, PASSWORD, f"{username}@example.org", agreement=True, scopes=SCOPES)
    return Mastodon(access_token=token, api_base_url=server.base_url)


def test_push_subscription(pushing_user: Mastodon, server: Server) -> None:
    api = pushing_user
    private, public = api.push_subscription_generate_keys()
    with pytest.raises(MastodonNotFoundError):
        api.push_subscription()
    sub = api.push_subscription_set(
        "https://push.example.net/v1/device-1", public, mention_events=True, follow_events=False
    )
    assert sub.endpoint == "https://push.example.net/v1/device-1"
    assert sub.alerts == {"mention": True, "follow": False}
    assert sub.policy == "all" and sub.standard is False
    vapid = Mastodon(api_base_url=server.base_url).instance_v2().configuration.vapid.public_key
    assert sub.server_key == vapid and len(vapid) == 88
    assert api.push_subscription().id == sub.id

    changed = api.push_subscription_update(favourite_events=True, reblog_events=False)
    assert changed.id == sub.id and changed.alerts == {"favourite": True, "reblog": False}

    with pytest.raises(MastodonAPIError) as refused:
        api.push_subscription_set("https://push example.net/x", public)
    assert refused.value.args[1] == 422
    api.push_subscription_delete()
    with pytest.raises(MastodonNotFoundError):
        api.push_subscription()
