from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base
from core.models import Id


class Member(Base):
    __tablename__ = "members_member"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    phone: Mapped[str | None] = mapped_column(String(20), unique=True)
    open_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    # WeChat's id of the person across the brand's apps (mini-program, official account);
    # only present when the apps share an open-platform account.
    union_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    nickname: Mapped[str] = mapped_column(String(50), default="")
    source_channel: Mapped[str | None] = mapped_column(String(50))
    source_guide_id: Mapped[int | None] = mapped_column(Integer)
    source_store_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Staff(Base):
    __tablename__ = "members_staff"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(50))
    phone: Mapped[str | None] = mapped_column(String(20), unique=True)
    roles: Mapped[list] = mapped_column(JSON, default=list)
    store_ids: Mapped[list] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # A one-time sign-in code (invitation, CLI bootstrap): only its SHA-256 is kept, so a
    # copy of the database does not hand out sessions.
    sign_in_code_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    sign_in_code_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
