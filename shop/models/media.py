"""Images kept by the service: generated ones (PromptPay QR) served by token, and customer uploads."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from shop.models.base import Base, UTCDateTime, utcnow


class Media(Base):
    __tablename__ = "media"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)  # unguessable, used in /media/<token>.png
    kind: Mapped[str] = mapped_column(String(24))  # promptpay_qr | receipt | customer_image
    content_type: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    preview: Mapped[bytes | None] = mapped_column(LargeBinary)
    line_message_id: Mapped[str] = mapped_column(String(64), default="", index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
