"""Mastodon.py, unchanged, against a running ``cordee serve``: apps, sign-up, password login,
posting, threads, follows, timelines, favourites, reblogs, notifications, pagination, search and
visibility.

Every test makes its own users, so the tests do not depend on each other or on their order
(pytest-xdist may run them on different workers, each with its own server).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from mastodon import Mastodon, MastodonAPIError, MastodonIllegalArgumentError, MastodonNotFoundError

from tests.clients.conftest import PASSWORD, Server

pytestmark = pytest.mark.clients

SCOPES = ["read", "write", "follow"]

NewUser = Callable[[str], Mastodon]


@pytest.fixture(scope="module")
def app_keys(server: Server) -> tuple[str, str]:
    client_id, client_secret = Mastodon.create_app(
        "Cordée client tests", api_base_url=server.base_url, scopes=SCOPES, website="https://example.org"
    )
    return client_id, client_secret


@pytest.fixture
def new_user(server: Server, app_keys: tuple[str, str], unique: Callable[[str], str]) -> NewUser:
    """Sign up through the API (Mastodon.py's ``create_account``) and answer a client for the user."""

    def make(prefix: str) -> Mastodon:
        username = unique(prefix)
        client_id, client_secret = app_keys
        api = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=server.base_url)
        token = api.create_account(
            username, PASSWORD, f"{username}@example.org", agreement=True, scopes=SCOPES
        )
        assert isinstance(token, str) and token
        user = Mastodon(access_token=token, api_base_url=server.base_url)
        assert user.me().username == username
        return user

    return make


def ids(items: Any) -> list[str]:
    return [item.id for item in items]


def test_instance_and_version_check(server: Server) -> None:
    api = Mastodon(api_base_url=server.base_url, version_check_mode="created")
    assert api.retrieve_mastodon_version() == "4.5.0"
    assert api.verify_minimum_version("4.3.0") and not api.verify_minimum_version("99.0.0")
    assert api.mastodon_api_version == 6
    instance = api.instance()
    assert instance.title == "Cordée"
    assert instance.domain == server.base_url.removeprefix("http://")
    assert instance.configuration.statuses.max_characters == 140
    assert instance.registrations.enabled is True
    # The default client (no version checks) reads the same thing.
    assert Mastodon(api_base_url=server.base_url).instance().version.startswith("4.5.0")


def test_create_app_and_log_in_with_password(
    server: Server, app_keys: tuple[str, str], new_user: NewUser
) -> None:
    registered = new_user("pw")
    me = registered.account_verify_credentials()
    email = f"{me.username}@example.org"

    client_id, client_secret = app_keys
    api = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=server.base_url)
    # allow_http: Mastodon.py refuses OAuth endpoints over plain HTTP unless told it is a test.
    token = api.log_in(username=email, password=PASSWORD, scopes=SCOPES, allow_http=True)
    assert token and token == api.access_token
    me = api.account_verify_credentials()
    assert me.acct == me.username
    assert me.source.privacy == "public"
    assert api.app_verify_credentials().name == "Cordée client tests"

    with pytest.raises(MastodonIllegalArgumentError):
        Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=server.base_url).log_in(
            username=email, password="not the password", scopes=SCOPES, allow_http=True
        )


def test_post_reply_context_and_delete(new_user: NewUser) -> None:
    alice, bob = new_user("alice"), new_user("bob")
    bob_name = bob.me().acct
    note = bob.status_post("A first note from Bob #cordee", language="en")
    assert note.account.acct == bob_name
    assert note.tags[0].name == "cordee"
    assert note.visibility == "public"

    reply = alice.status_post(f"@{bob_name} welcome!", in_reply_to_id=note.id)
    assert reply.in_reply_to_id == note.id
    assert reply.in_reply_to_account_id == note.account.id
    assert [m.acct for m in reply.mentions] == [bob_name]

    context = bob.status_context(note.id)
    assert ids(context.ancestors) == [] and ids(context.descendants) == [reply.id]
    context = bob.status_context(reply.id)
    assert ids(context.ancestors) == [note.id] and ids(context.descendants) == []
    assert bob.status(note.id).replies_count == 1

    deleted = alice.status_delete(reply.id)
    assert deleted.id == reply.id
    assert deleted.text == f"@{bob_name} welcome!"  # the source, for "delete and redraft"
    with pytest.raises(MastodonNotFoundError):
        alice.status(reply.id)
    assert bob.status_context(note.id).descendants == []


def test_follow_and_home_timeline(new_user: NewUser) -> None:
    alice, bob = new_user("alice"), new_user("bob")
    bob_id = bob.me().id
    relationship = alice.account_follow(bob_id)
    assert relationship.following is True
    assert [r.following for r in alice.account_relationships(bob_id)] == [True]
    assert ids(bob.account_followers(bob_id)) == [alice.me().id]

    note = bob.status_post("Only followers' home timelines get this")
    home = alice.timeline_home()
    assert note.id in ids(home)
    assert home[0].account.id == bob_id

    alice.account_unfollow(bob_id)
    later = bob.status_post("After the unfollow")
    assert later.id not in ids(alice.timeline_home())


def test_favourite_reblog_and_notifications(new_user: NewUser) -> None:
    alice, bob = new_user("alice"), new_user("bob")
    alice_id = alice.me().id
    bob.account_follow(alice_id)
    note = alice.status_post("Favourite and boost me")

    favourited = bob.status_favourite(note.id)
    assert favourited.favourited is True and favourited.favourites_count == 1
    reblog = bob.status_reblog(note.id)
    assert reblog.reblog.id == note.id and reblog.reblog.reblogged is True
    assert alice.status(note.id).reblogs_count == 1
    bob_id = bob.me().id
    assert ids(alice.status_favourited_by(note.id)) == ids(alice.status_reblogged_by(note.id)) == [bob_id]
    bob.status_post(f"@{alice.me().acct} hello", visibility="unlisted")

    every = alice.notifications()
    assert [n.type for n in every] == ["mention", "reblog", "favourite", "follow"]
    assert {n.account.id for n in every} == {bob.me().id}
    [favourite] = alice.notifications(types=["favourite"])
    assert favourite.status.id == note.id
    [reblogged] = alice.notifications(types=["reblog"])
    assert reblogged.status.id == note.id
    others = alice.notifications(exclude_types=["favourite", "reblog"])
    assert [n.type for n in others] == ["mention", "follow"]
    assert alice.notifications(id=favourite.id).type == "favourite"

    bob.status_unfavourite(note.id)
    bob.status_unreblog(note.id)
    again = alice.status(note.id)
    assert again.favourites_count == 0 and again.reblogs_count == 0


def test_pagination_over_many_notes(new_user: NewUser) -> None:
    poster = new_user("pager")
    posted = [poster.status_post(f"Note number {i}").id for i in range(47)]
    newest_first = list(reversed(posted))

    seen: list[str] = []
    pages = []
    page = poster.timeline_home(limit=10)
    while page:
        assert len(page) <= 10
        pages.append(page)
        seen.extend(ids(page))
        page = poster.fetch_next(page)
    assert len(seen) == len(set(seen)) == 47  # no duplicates, nothing missed
    assert seen == newest_first
    assert [len(p) for p in pages] == [10, 10, 10, 10, 7]

    # Going back from the third page gives the second page again.
    back = poster.fetch_previous(pages[2])
    assert ids(back) == ids(pages[1])
    # …and nothing is newer than the first page.
    assert not poster.fetch_previous(pages[0])

    # The same over an account's notes, with fetch_remaining.
    everything = poster.fetch_remaining(poster.account_statuses(poster.me().id, limit=20))
    assert ids(everything) == newest_first


def test_lookup_and_search(new_user: NewUser) -> None:
    alice, bob = new_user("alice"), new_user("searchable")
    bob_name = bob.me().acct
    found = alice.account_lookup(bob_name)
    assert found.id == bob.me().id
    assert bob.me().id in ids(alice.account_search(bob_name[:-1]))
    with pytest.raises(MastodonNotFoundError):
        alice.account_lookup("nobody_has_this_name")

    note = bob.status_post("Rhubarb crumble recipes #baking")
    result = alice.search_v2(bob_name)
    assert bob.me().id in ids(result.accounts)
    result = alice.search_v2("rhubarb", result_type="statuses")
    assert note.id in ids(result.statuses)
    assert result.accounts == [] and result.hashtags == []
    result = alice.search_v2("#baking", result_type="hashtags")
    assert "baking" in [tag.name for tag in result.hashtags]


def test_private_note_is_only_for_followers(server: Server, new_user: NewUser) -> None:
    alice, follower, stranger = new_user("alice"), new_user("follower"), new_user("stranger")
    alice_id = alice.me().id
    follower.account_follow(alice_id)
    note = alice.status_post("Just for my followers", visibility="private")
    assert note.visibility == "private"

    assert follower.status(note.id).id == note.id
    assert note.id in ids(follower.timeline_home())
    with pytest.raises(MastodonNotFoundError):
        stranger.status(note.id)
    with pytest.raises(MastodonNotFoundError):
        Mastodon(api_base_url=server.base_url).status(note.id)
    assert note.id not in ids(stranger.account_statuses(alice_id))
    assert note.id not in ids(stranger.timeline_public())
    with pytest.raises(MastodonAPIError):
        stranger.status_favourite(note.id)
