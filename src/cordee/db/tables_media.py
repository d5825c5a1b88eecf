"""Rows for media attachments (the files themselves live in ``cordee.media.storage``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cordee.db.tables import Base, _created, _id
from cordee.db.types import UTCDateTime


class MediaAttachment(Base):
    """An uploaded image, video or audio file: unattached (``status_id`` NULL) until a note uses it.

    Images are processed during the upload. Video and audio are ``processing`` "queued" until the
    job (``cordee.jobs.media_video``) has transcoded the upload waiting at ``incoming_key``
    (``cordee.media.incoming``); until then ``file_key`` is NULL and the API shows no ``url``.

    ``file_key`` and ``small_key`` name the original and the preview in the media storage. When
    the note is deleted the attachment is detached, not deleted (Mastodon's "delete and redraft"
    reuses it); media left unattached are removed by a periodic task after a day.
    """

    __tablename__ = "media_attachments"
    __table_args__ = (
        Index("ix_media_attachments_status_id", "status_id"),
        Index("ix_media_attachments_account_id", "account_id", "id"),
        Index("ix_media_attachments_processing", "processing", "id"),
    )
    id: Mapped[int] = _id()
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False)
    status_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("statuses.id", ondelete="SET NULL"), nullable=True
    )
    #: Order among the note's attachments, as the client listed them in ``media_ids``.
    position: Mapped[int | None] = mapped_column(Integer, nullable=True)
    type: Mapped[str] = mapped_column(String(16), nullable=False)  # image, video or audio
    content_type: Mapped[str] = mapped_column(String(64), nullable=False)
    #: NULL while a video or audio upload waits for processing.
    file_key: Mapped[str | None] = mapped_column(Text, nullable=True)
    file_size: Mapped[int | None] = mapped_column(Integer, nullable=True)
    #: NULL for audio (and for video not processed yet).
    width: Mapped[int | None] = mapped_column(Integer, nullable=True)
    height: Mapped[int | None] = mapped_column(Integer, nullable=True)
    #: The preview: NULL for audio without cover art or custom thumbnail.
    small_key: Mapped[str | None] = mapped_column(Text, nullable=True)
    small_width: Mapped[int | None] = mapped_column(Integer, nullable=True)
    small_height: Mapped[int | None] = mapped_column(Integer, nullable=True)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    focus_x: Mapped[float | None] = mapped_column(Float, nullable=True)
    focus_y: Mapped[float | None] = mapped_column(Float, nullable=True)
    blurhash: Mapped[str | None] = mapped_column(String(100), nullable=True)
    #: When its note was deleted (the unattached-media clean-up counts from then, not from upload).
    detached_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: queued | in_progress | complete | failed (Mastodon's states); images are complete at once.
    processing: Mapped[str] = mapped_column(String(16), nullable=False, server_default="complete")
    #: Why processing failed, for the person (the API's 422).
    processing_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    #: Claims so far: a file whose worker died this many times is given up (``MAX_ATTEMPTS``).
    processing_attempts: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    #: When the current claim was taken; a claim older than the worker timeout was abandoned.
    processing_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: The upload waiting for processing (``cordee.media.incoming``) and the type the client declared.
    incoming_key: Mapped[str | None] = mapped_column(Text, nullable=True)
    incoming_type: Mapped[str | None] = mapped_column(String(128), nullable=True)
    #: Video and audio: Mastodon's ``meta`` (duration, frame rate, bit rate, audio…) of the stored file.
    meta: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = _created()
