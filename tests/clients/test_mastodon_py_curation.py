"""Mastodon.py, unchanged, on lists, filters v2, hashtags, conversations, suggestions, trends and
reports, against a running ``cordee serve`` (same setup as test_mastodon_py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from mastodon import Mastodon, MastodonAPIError, MastodonNotFoundError

from tests.clients.conftest import PASSWORD, Server

pytestmark = pytest.mark.clients

SCOPES = ["read", "write", "follow"]
NewUser = Callable[[str], Mastodon]


@pytest.fixture(scope="module")
def new_user(server: Server, unique: Callable[[str], str]) -> NewUser:
    client_id, client_secret = Mastodon.create_app(
        "Cordée curation tests", api_base_url=server.base_url, scopes=SCOPES
    )

    def make(prefix: str) -> Mastodon:
        username = unique(prefix)
        api = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=server.base_url)
        token = api.create_account(
            username, PASSWORD, f"{username}@example.org", agreement=True, scopes=SCOPES
        )
        return Mastodon(access_token=token, api_base_url=server.base_url)

    return make


def _every(fetch: Callable[..., list[Any]]) -> list[Any]:
    found: list[Any] = []
    while page := fetch(limit=20, offset=len(found)):
        found += page
    return found


def test_lists_and_filters(new_user: NewUser) -> None:
    me, friend = new_user("mpyme"), new_user("mpyfriend")
    friend_id = friend.me().id
    me.account_follow(friend_id)
    lst = me.list_create("Friends", replies_policy="none", exclusive=True)
    assert (lst.title, lst.replies_policy, lst.exclusive) == ("Friends", "none", True)
    me.list_accounts_add(lst, [friend_id])
    assert [a.id for a in me.list_accounts(lst)] == [friend_id]
    assert [x.id for x in me.account_lists(friend_id)] == [lst.id]
    note = friend.status_post("the season finale was wild")
    assert [s.id for s in me.timeline_list(lst)] == [note.id]
    assert note.id not in [s.id for s in me.timeline_home()]
    me.list_update(lst, "Friends", exclusive=False)
    me.list_accounts_delete(lst, [friend_id])
    assert me.list_accounts(lst) == []
    with pytest.raises(MastodonNotFoundError):
        friend.list(lst.id)

    flt = me.create_filter_v2(
        "Spoilers",
        ["public"],
        filter_action="warn",
        keywords_attributes=[{"keyword": "finale", "whole_word": True}],
    )
    assert flt.keywords[0].keyword == "finale" and flt.keywords[0].whole_word is True
    keyword = me.add_filter_keyword_v2(flt, "season", whole_word=False)
    assert [k.keyword for k in me.filter_keywords_v2(flt)] == ["finale", "season"]
    me.delete_filter_keyword_v2(keyword)
    me.add_filter_status_v2(flt, note)
    [shown] = [s for s in me.timeline_public() if s.id == note.id]
    [result] = shown.filtered
    assert result.filter.title == "Spoilers" and result.keyword_matches == ["finale"]
    assert result.status_matches == [note.id]
    me.update_filter_v2(flt, filter_action="hide")
    assert note.id not in [s.id for s in me.timeline_public()]
    assert [f.title for f in me.filters_v2()] == ["Spoilers"]
    me.delete_filter_v2(flt)
    assert me.filters_v2() == []


def test_tags_conversations_discovery_and_reports(new_user: NewUser) -> None:
    me, other = new_user("mpytags"), new_user("mpyother")
    tag = me.tag_follow("mpygardening")
    assert tag.following is True and tag.name == "mpygardening"
    assert "mpygardening" in [t.name for t in me.followed_tags()]
    note = other.status_post("Tomatoes #mpygardening https://example.org/tomatoes")
    assert note.id in [s.id for s in me.timeline_home()]
    assert me.tag_unfollow("mpygardening").following is False
    featured = me.featured_tag_create("mpygardening")
    assert featured.statuses_count in (0, "0")  # Mastodon.py keeps the documented string as given
    me.featured_tag_delete(featured)

    dm = other.status_post(f"@{me.me().acct} just us", visibility="direct")
    [conversation] = me.conversations()
    assert conversation.unread is True and conversation.last_status.id == dm.id
    assert me.conversations_read(conversation).unread is False

    assert other.me().id in [s.account.id for s in me.suggestions_v2()]
    me.suggestion_delete(other.me().id)
    assert other.me().id not in [s.account.id for s in me.suggestions_v2()]

    # The server is shared with other tests: read every page of each trend (they page by offset).
    assert "mpygardening" in [t.name for t in _every(me.trending_tags)]
    assert "https://example.org/tomatoes" in [link.url for link in _every(me.trending_links)]
    me.status_favourite(note)
    assert note.id in [s.id for s in _every(me.trending_statuses)]

    report = me.report(other.me().id, status_ids=[note.id], comment="spam", category="spam")
    assert report.target_account.id == other.me().id and report.status_ids == [note.id]
    with pytest.raises(MastodonAPIError):
        me.report(other.me().id, comment="x" * 1001)
