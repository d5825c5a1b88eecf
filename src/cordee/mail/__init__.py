"""Sending e-mail (address confirmation, password reset) through a pluggable sender.

``SmtpSender`` talks to a real server (stdlib ``smtplib``, in a thread: it blocks) when
``CORDEE_SMTP_HOST`` is set. Otherwise ``FileSender`` writes each message as an ``.eml`` file under
``<data_dir>/mail`` and logs where, so a fresh local install works without a mail server: open the
file to follow the link.

Sending happens after the transaction that made the link has committed, in a background task: the
answer to the person does not wait on (or reveal, by its timing) the mail server. A message that
fails to send is logged; the person can ask again.
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
import time
import uuid
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any, Protocol

from cordee.config import Settings

log = logging.getLogger(__name__)


class Sender(Protocol):
    #: Whether messages reach real inboxes (an address can only be required to be confirmed then).
    delivers: bool

    async def send(self, message: EmailMessage) -> None: ...


class FileSender:
    """Writes messages to ``directory`` as ``.eml`` files (the default, for local use)."""

    delivers = False

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    async def send(self, message: EmailMessage) -> None:
        # Named by time to the microsecond, so that listing the folder gives the order they were sent.
        now = time.time_ns()
        stamp = f"{time.strftime('%Y%m%d-%H%M%S', time.gmtime(now // 10**9))}.{now // 1000 % 10**6:06d}"
        path = self.directory / f"{stamp}-{uuid.uuid4().hex[:8]}.eml"
        await asyncio.to_thread(self._write, path, message.as_bytes())
        log.info("e-mail to %s (%s) written to %s", message["To"], message["Subject"], path)

    def _write(self, path: Path, data: bytes) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        path.chmod(0o600)  # it holds a sign-in capability (a reset link)


class SmtpSender:
    """Sends through an SMTP server: ``CORDEE_SMTP_HOST``, ``_PORT``, ``_USER``, ``_PASSWORD`` and
    ``_SECURITY`` (``starttls`` by default, ``tls`` for implicit TLS on 465, ``none``)."""

    delivers = True

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def send(self, message: EmailMessage) -> None:
        await asyncio.to_thread(self._send, message)

    def _send(self, message: EmailMessage) -> None:
        s = self.settings
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if s.smtp_security == "tls":
            smtp = smtplib.SMTP_SSL(s.smtp_host, s.smtp_port, timeout=30, context=context)
        else:
            smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=30)
        with smtp:
            if s.smtp_security == "starttls":
                smtp.starttls(context=context)
            if s.smtp_user:
                smtp.login(s.smtp_user, s.smtp_password)
            smtp.send_message(message)


def build_sender(settings: Settings) -> Sender:
    if settings.smtp_host:
        return SmtpSender(settings)
    return FileSender(settings.data_dir / "mail")


def sender_of(app: Any) -> Sender:
    """The sender of a running app (built from its settings on first use)."""
    sender: Sender | None = getattr(app.state, "mail_sender", None)
    if sender is None:
        sender = app.state.mail_sender = build_sender(app.state.settings)
    return sender


def message(settings: Settings, to: str, subject: str, body: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = settings.smtp_from or f"{settings.instance_title} <notifications@{settings.domain}>"
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain=settings.domain.split(":")[0])
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(body)
    return msg


_pending: set[asyncio.Task[None]] = set()


def send_later(sender: Sender, msg: EmailMessage) -> None:
    """Send in the background (the task is kept until done; failures are logged)."""

    async def run() -> None:
        try:
            await sender.send(msg)
        except Exception:
            log.exception("could not send an e-mail to %s (%s)", msg["To"], msg["Subject"])

    task = asyncio.create_task(run())
    _pending.add(task)
    task.add_done_callback(_pending.discard)


async def wait_sent() -> None:
    """Wait for the messages being sent (tests, and a clean shutdown)."""
    while _pending:
        await asyncio.gather(*list(_pending), return_exceptions=True)
