"""Background job runs: one row per job and run key (e.g. a day), so a run happens once across processes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from learnapp.extensions import db
from learnapp.models.types import UTCDateTime


class JobRun(db.Model):
    __tablename__ = "job_run"
    __table_args__ = (UniqueConstraint("job", "run_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(64))
    run_key: Mapped[str] = mapped_column(String(64))  # what this run covers, e.g. "2026-11-24"
    status: Mapped[str] = mapped_column(String(16), default="running")  # running, ok, error
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    seconds: Mapped[float | None] = mapped_column(Float)
    detail: Mapped[str] = mapped_column(Text, default="")
    host: Mapped[str] = mapped_column(String(255), default="")


class Notification(db.Model):
    """An email sent (or claimed for sending) to one person for one key, e.g. a reminder for one day.

    ``refused`` holds the mail relay's reply when it refused the email for good (SMTP 5xx, e.g. no such
    mailbox): the claim stays, so the email is not tried again. NULL for an email sent or being sent.
    """

    __tablename__ = "notification"
    __table_args__ = (UniqueConstraint("user_id", "kind", "run_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))  # reminder, digest
    run_key: Mapped[str] = mapped_column(String(64))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime())
    refused: Mapped[str | None] = mapped_column(Text)
