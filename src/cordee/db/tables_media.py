"""Rows for media attachments (the files themselves live in ``cordee.media.storage``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cordee.db.tables import Base, _created, _id
from cordee.db.types import UTCDateTime


class MediaAttachment(Base):
    """An uploaded image: unattached (``status_id`` NULL) until a note uses it.

    ``file_key`` and ``small_key`` name the original and the preview in the media storage. When
    the note is deleted the attachment is detached, not deleted (Mastodon's "delete and redraft"
    reuses it); media left unattached are removed by a periodic task after a day.
    """

    __tablename__ = "media_attachments"
    __table_args__ = (
        Index("ix_media_attachments_status_id", "status_id"),
        Index("ix_media_attachments_account_id", "account_id", "id"),
    )
    id: Mapped[int] = _id()
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False)
    status_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("statuses.id", ondelete="SET NULL"), nullable=True
    )
    #: Order among the note's attachments, as the client listed them in ``media_ids``.
    position: Mapped[int | None] = mapped_column(Integer, nullable=True)
    type: Mapped[str] = mapped_column(String(16), nullable=False)  # image (gifv/video/audio later)
    content_type: Mapped[str] = mapped_column(String(64), nullable=False)
    file_key: Mapped[str] = mapped_column(Text, nullable=False)
    file_size: Mapped[int] = mapped_column(Integer, nullable=False)
    width: Mapped[int] = mapped_column(Integer, nullable=False)
    height: Mapped[int] = mapped_column(Integer, nullable=False)
    small_key: Mapped[str] = mapped_column(Text, nullable=False)
    small_width: Mapped[int] = mapped_column(Integer, nullable=False)
    small_height: Mapped[int] = mapped_column(Integer, nullable=False)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    focus_x: Mapped[float | None] = mapped_column(Float, nullable=True)
    focus_y: Mapped[float | None] = mapped_column(Float, nullable=True)
    blurhash: Mapped[str | None] = mapped_column(String(100), nullable=True)
    #: When its note was deleted (the unattached-media clean-up counts from then, not from upload).
    detached_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = _created()
