"""Mastodon.py, unchanged: uploading and describing media, posting with them, polls and votes
(the fixtures are those of ``test_mastodon_py``)."""

from __future__ import annotations

import io

import pytest
from mastodon import MastodonAPIError
from PIL import Image

from tests.clients.test_mastodon_py import NewUser, app_keys, new_user  # noqa: F401 (fixtures)

pytestmark = pytest.mark.clients


def test_media_upload_describe_and_post(new_user: NewUser) -> None:  # noqa: F811
    alice = new_user("mpmedia")
    picture = io.BytesIO()
    Image.new("RGB", (80, 60), (10, 120, 200)).save(picture, format="JPEG")
    media = alice.media_post(
        picture.getvalue(), mime_type="image/jpeg", description="A blue field", focus=(0.5, -0.5)
    )
    assert media.type == "image" and media.description == "A blue field"
    assert media.meta.focus.x == 0.5 and media.meta.original.width == 80
    updated = alice.media_update(media, description="A deep blue field")
    assert updated.description == "A deep blue field"

    note = alice.status_post("Blue", media_ids=[media], sensitive=True)
    assert [m.id for m in note.media_attachments] == [media.id]
    assert note.media_attachments[0].description == "A deep blue field" and note.sensitive is True

    with pytest.raises(MastodonAPIError):
        alice.media_post(b"not an image at all", mime_type="image/png")


def test_poll_create_vote_and_read(new_user: NewUser) -> None:  # noqa: F811
    alice, bob = new_user("mppolla"), new_user("mppollb")
    poll = alice.make_poll(["Mountains", "Sea", "City"], expires_in=3600, multiple=True)
    note = alice.status_post("Holidays?", poll=poll)
    assert [o.title for o in note.poll.options] == ["Mountains", "Sea", "City"]

    voted = bob.poll_vote(note.poll.id, [0, 2])
    assert voted.voted is True and voted.own_votes == [0, 2]
    assert voted.votes_count == 2 and voted.voters_count == 1
    assert alice.poll(note.poll.id).options[2].votes_count == 1
    with pytest.raises(MastodonAPIError):  # a choice already made (Mastodon's VoteValidator)
        bob.poll_vote(note.poll.id, [0])
    assert bob.poll_vote(note.poll.id, [1]).own_votes == [0, 1, 2]  # more choices, later: as Mastodon
