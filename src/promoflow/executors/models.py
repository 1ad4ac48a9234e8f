"""The table of live promoflow processes on the shared database."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from promoflow.kit.db import Base
from promoflow.kit.types import UtcDateTime


class Executor(Base):
    """A live (or not yet taken over) promoflow process on the shared database."""

    __tablename__ = "executors"

    executor_id: Mapped[str] = mapped_column(sa.String(128), primary_key=True)
    host: Mapped[str] = mapped_column(sa.String(255))
    pid: Mapped[int]
    application_version: Mapped[str] = mapped_column(sa.String(64))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime())
