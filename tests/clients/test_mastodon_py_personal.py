"""Mastodon.py, unchanged: editing a note and reading its history and source, bookmarks, pins,
favourites, scheduled notes, markers and preferences (the fixtures are those of ``test_mastodon_py``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from mastodon import MastodonAPIError, MastodonNotFoundError

from tests.clients.test_mastodon_py import NewUser, app_keys, new_user  # noqa: F401 (fixtures)

pytestmark = pytest.mark.clients


def test_edit_history_and_source(new_user: NewUser) -> None:  # noqa: F811
    alice, bob = new_user("mpedita"), new_user("mpeditb")
    note = alice.status_post("First words #draft", spoiler_text="")
    edited = alice.status_update(note, "Better words #final", spoiler_text="a warning")
    assert edited.id == note.id and isinstance(edited.edited_at, datetime)
    assert edited.spoiler_text == "a warning" and edited.sensitive is True
    history = alice.status_history(note)
    assert [h.spoiler_text for h in history] == ["", "a warning"]
    assert "First words" in history[0].content and isinstance(history[1].created_at, datetime)
    source = alice.status_source(note)
    assert source.text == "Better words #final" and source.spoiler_text == "a warning"
    with pytest.raises(MastodonAPIError):
        bob.status_update(note, "Not mine")
    with pytest.raises(MastodonAPIError):
        alice.status_update(note, "x" * 141)


def test_bookmarks_pins_and_favourites(new_user: NewUser) -> None:  # noqa: F811
    alice, bob = new_user("mpbooka"), new_user("mpbookb")
    notes = [bob.status_post(f"Note {i}") for i in range(3)]
    for note in notes:
        assert alice.status_bookmark(note).bookmarked is True
        alice.status_favourite(note)
    page = alice.bookmarks(limit=2)
    assert [s.id for s in page] == [notes[2].id, notes[1].id]
    rest = alice.fetch_next(page)
    assert rest is not None and [s.id for s in rest] == [notes[0].id]
    assert [s.id for s in alice.favourites()] == [n.id for n in reversed(notes)]
    assert alice.status_unbookmark(notes[0]).bookmarked is False

    mine = alice.status_post("Pinned words")
    assert alice.status_pin(mine).pinned is True
    assert [s.id for s in bob.account_statuses(alice.me(), pinned=True)] == [mine.id]
    with pytest.raises(MastodonAPIError):
        alice.status_pin(notes[0])  # Bob's
    assert alice.status_unpin(mine).pinned is False
    assert list(bob.account_statuses(alice.me(), pinned=True)) == []


def test_scheduled_statuses(new_user: NewUser) -> None:  # noqa: F811
    alice = new_user("mpsched")
    when = datetime.now(UTC) + timedelta(hours=1)
    scheduled = alice.status_post("Tomorrow's news", scheduled_at=when, visibility="unlisted")
    assert scheduled.params.text == "Tomorrow's news" and scheduled.params.visibility == "unlisted"
    assert abs((scheduled.scheduled_at - when).total_seconds()) < 1
    assert [s.id for s in alice.scheduled_statuses()] == [scheduled.id]
    moved = alice.scheduled_status_update(scheduled, when + timedelta(days=1))
    assert moved.scheduled_at > scheduled.scheduled_at
    # Less than five minutes ahead: posted at once, as Mastodon's PostStatusService does.
    now = alice.status_post("Too soon", scheduled_at=datetime.now(UTC) + timedelta(minutes=1))
    assert now.content == "<p>Too soon</p>"
    alice.scheduled_status_delete(scheduled)
    with pytest.raises(MastodonNotFoundError):
        alice.scheduled_status(scheduled)
    assert list(alice.scheduled_statuses()) == []


def test_markers_and_preferences(new_user: NewUser) -> None:  # noqa: F811
    alice = new_user("mpmark")
    note = alice.status_post("Read up to here")
    set_ = alice.markers_set(["home", "notifications"], [note.id, note.id])
    assert set_["home"].last_read_id == note.id and set_["home"].version == 1
    got = alice.markers_get(["home", "notifications"])
    assert got["notifications"].last_read_id == note.id and isinstance(got["home"].updated_at, datetime)

    assert alice.preferences()["posting:default:visibility"] == "public"
    me = alice.account_update_credentials(default_privacy="unlisted", default_sensitive=True)
    assert me.source.privacy == "unlisted" and me.source.sensitive is True
    prefs = alice.preferences()
    assert prefs["posting:default:visibility"] == "unlisted" and prefs["posting:default:sensitive"] is True
    assert alice.status_post("Quietly").visibility == "unlisted"


def test_muted_conversation_note_and_endorsement(new_user: NewUser) -> None:  # noqa: F811
    alice, bob = new_user("mpmutea"), new_user("mpmuteb")
    root = alice.status_post("A long thread")
    assert alice.status_mute(root).muted is True
    reply = bob.status_post(f"@{alice.me().acct} an answer", in_reply_to_id=root.id)
    assert alice.status(reply).muted is True and bob.status(reply).muted is False
    assert list(alice.notifications()) == []
    assert alice.status_unmute(root).muted is False

    bob_account = bob.me()
    assert alice.account_note_set(bob_account, "Climbs on Tuesdays").note == "Climbs on Tuesdays"
    assert alice.account_relationships(bob_account)[0].note == "Climbs on Tuesdays"
    with pytest.raises(MastodonAPIError):
        alice.account_pin(bob_account)  # not followed yet: 422
    alice.account_follow(bob_account)
    assert alice.account_pin(bob_account).endorsed is True
    assert [a.id for a in alice.endorsements()] == [bob_account.id]
    assert alice.account_unendorse(bob_account).endorsed is False
