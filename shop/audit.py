"""The audit log: every change staff make (back office or CLI), written in the same transaction as the
change itself, so a change without its entry (or an entry without its change) cannot happen."""
from __future__ import annotations

import getpass
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shop.models.staff import AuditEntry


@dataclass(frozen=True)
class Actor:
    """Who does something: a signed-in staff member, or a command run on the server."""
    staff_id: int | None
    name: str

    @classmethod
    def cli(cls) -> Actor:
        try:
            user = getpass.getuser()
        except (KeyError, OSError):
            user = "unknown"
        return cls(None, f"cli:{user}"[:80])


def record(session: Session, actor: Actor, action: str, subject_type: str, subject_key: str,
           before: dict | None, after: dict | None, detail: str = "") -> None:
    session.add(AuditEntry(staff_id=actor.staff_id, actor=actor.name[:80], action=action,
                           subject_type=subject_type, subject_key=str(subject_key)[:64],
                           before=before, after=after, detail=detail[:2000]))


def entries(session: Session, *, subject_key: str | None = None, page: int = 1,
            per_page: int = 50) -> tuple[list[AuditEntry], int]:
    """Newest first, one page of them, and how many there are in all."""
    query = select(AuditEntry)
    counted = select(func.count()).select_from(AuditEntry)
    if subject_key:
        query = query.where(AuditEntry.subject_key == subject_key)
        counted = counted.where(AuditEntry.subject_key == subject_key)
    total = session.scalar(counted) or 0
    rows = session.scalars(query.order_by(AuditEntry.id.desc()).offset((page - 1) * per_page).limit(per_page))
    return list(rows), total
