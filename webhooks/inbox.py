"""The inbox: every webhook event stored once (unique webhookEventId) before LINE gets its 200, then
claimed by workers one chat at a time, in timestamp order.

Claiming is a lease on one event: a worker takes the oldest unfinished event of a chat only when no
earlier event of that chat is unfinished and the event is either queued (and due) or processing under
an expired lease (its worker died). The claim is a compare-and-set UPDATE (status and attempts must
still be what the worker read), so two workers can never both win; on PostgreSQL the candidate row is
also read with FOR UPDATE SKIP LOCKED so concurrent workers move on to other chats instead of
colliding. Works the same with any number of worker threads or processes.
"""
from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import aliased

from shop.db import Database
from shop.models.base import utcnow
from shop.models.inbox import InboxEvent, InboxStatus

log = logging.getLogger(__name__)

QUEUED, PROCESSING = InboxStatus.QUEUED.value, InboxStatus.PROCESSING.value
DONE, SKIPPED, FAILED = InboxStatus.DONE.value, InboxStatus.SKIPPED.value, InboxStatus.FAILED.value
UNFINISHED = (QUEUED, PROCESSING)
MAX_BIGINT = 2**63 - 1


@dataclass(frozen=True)
class StoredEvent:
    id: int
    chat_id: str
    status: str


def chat_id_of(event: dict) -> str:
    """The chat an event belongs to: the group or room when there is one, else the user."""
    source = event.get("source") if isinstance(event.get("source"), dict) else {}
    for key in {"group": ("groupId",), "room": ("roomId",)}.get(source.get("type"), ()) + ("userId",):
        value = source.get(key)
        if isinstance(value, str) and value:
            return value
    return ""


def _text(value: object, limit: int) -> str:
    return value[:limit] if isinstance(value, str) else ""


def event_json(event: dict) -> str:
    """The event's JSON (all fields as LINE sent them); Thai stays readable unless the body carried
    lone surrogates, which no database accepts as UTF-8, then they stay escaped."""
    text = json.dumps(event, ensure_ascii=False, separators=(",", ":"))
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = json.dumps(event, separators=(",", ":"))
    return text


def dedupe_key(event: dict, body: str) -> str:
    """webhookEventId; an event without a usable one (only forged or broken events) gets a digest of
    its JSON, so a resend of the same bytes is still recognised."""
    event_id = event.get("webhookEventId")
    if isinstance(event_id, str) and 0 < len(event_id) <= 64:
        return event_id
    return "sha256:" + hashlib.sha256(body.encode("utf-8")).hexdigest()[:57]


def inbox_row(event: dict, *, known: bool) -> dict:
    """Column values for one raw event dict. Columns are for ordering and staff; the body is the truth."""
    body = event_json(event)
    timestamp = event.get("timestamp")
    if not isinstance(timestamp, int) or isinstance(timestamp, bool) or not 0 <= timestamp <= MAX_BIGINT:
        timestamp = int(time.time() * 1000)
    status, note = QUEUED, ""
    if not known:
        status, note = SKIPPED, "unknown or malformed event type: stored, not processed"
    elif event.get("mode") == "standby":
        status, note = SKIPPED, "standby mode: another channel answers this chat"
    source = event.get("source") if isinstance(event.get("source"), dict) else {}
    return dict(webhook_event_id=dedupe_key(event, body), chat_id=chat_id_of(event)[:64],
                user_id=_text(source.get("userId"), 64), event_type=_text(event.get("type"), 32),
                timestamp_ms=timestamp, reply_token=_text(event.get("replyToken"), 128), body=body,
                status=status, last_error=note, received_at=utcnow(),
                finished_at=utcnow() if status == SKIPPED else None)


def store_events(db: Database, rows: list[dict]) -> list[StoredEvent]:
    """Insert the rows in one transaction; duplicates (same webhookEventId, already stored or racing
    in another request) are ignored. Returns the rows that were new."""
    insert = postgresql_insert if db.engine.dialect.name == "postgresql" else sqlite_insert
    stored: list[StoredEvent] = []
    with db.session() as session:
        for row in rows:
            statement = (insert(InboxEvent).values(**row)
                         .on_conflict_do_nothing(index_elements=["webhook_event_id"])
                         .returning(InboxEvent.id))
            new_id = session.execute(statement).scalar()
            if new_id is not None:
                stored.append(StoredEvent(new_id, row["chat_id"], row["status"]))
    return stored


def _claimable(now, chat_id: str | None):
    earlier = aliased(InboxEvent)
    blocked = exists().where(
        earlier.chat_id == InboxEvent.chat_id, earlier.status.in_(UNFINISHED),
        or_(earlier.timestamp_ms < InboxEvent.timestamp_ms,
            and_(earlier.timestamp_ms == InboxEvent.timestamp_ms, earlier.id < InboxEvent.id)))
    ready = or_(and_(InboxEvent.status == QUEUED,
                     or_(InboxEvent.available_at.is_(None), InboxEvent.available_at <= now)),
                and_(InboxEvent.status == PROCESSING, InboxEvent.lease_until < now))
    query = (select(InboxEvent.id, InboxEvent.status, InboxEvent.attempts)
             .where(InboxEvent.status.in_(UNFINISHED), ready, ~blocked)
             .order_by(InboxEvent.timestamp_ms, InboxEvent.id).limit(1))
    if chat_id is not None:
        query = query.where(InboxEvent.chat_id == chat_id)
    return query


def claim_next(db: Database, owner: str, *, lease_seconds: float, max_attempts: int,
               chat_id: str | None = None) -> InboxEvent | None:
    """Lease the next event that may be processed now (optionally only in `chat_id`), or None."""
    postgres = db.engine.dialect.name == "postgresql"
    for _ in range(20):  # lost races are retried; 20 losses in a row means others are draining it
        now = utcnow()
        with db.session() as session:
            query = _claimable(now, chat_id)
            if postgres:
                query = query.with_for_update(skip_locked=True, of=InboxEvent)
            candidate = session.execute(query).first()
            if candidate is None:
                return None
            if candidate.status == PROCESSING and candidate.attempts >= max_attempts:
                session.execute(update(InboxEvent).where(
                    InboxEvent.id == candidate.id, InboxEvent.status == PROCESSING,
                    InboxEvent.attempts == candidate.attempts).values(
                    status=FAILED, lease_until=None, lease_owner="", finished_at=now,
                    last_error=f"worker stopped during the turn; gave up after {candidate.attempts} attempts"))
                log.error("inbox event %s failed: its worker stopped %d times", candidate.id, candidate.attempts)
                continue
            claimed = session.scalars(update(InboxEvent).where(
                InboxEvent.id == candidate.id, InboxEvent.status == candidate.status,
                InboxEvent.attempts == candidate.attempts).values(
                status=PROCESSING, attempts=InboxEvent.attempts + 1, lease_owner=owner,
                lease_until=now + timedelta(seconds=lease_seconds)).returning(InboxEvent)).first()
            if claimed is not None:
                return claimed
    return None


def extend_lease(db: Database, event_id: int, owner: str, lease_seconds: float) -> bool:
    """Renew the lease; False when this worker no longer holds it (it expired and another took over)."""
    with db.session() as session:
        return bool(session.execute(update(InboxEvent).where(
            InboxEvent.id == event_id, InboxEvent.status == PROCESSING, InboxEvent.lease_owner == owner).values(
            lease_until=utcnow() + timedelta(seconds=lease_seconds))).rowcount)


def finish(db: Database, event_id: int, owner: str, status: str, error: str = "") -> bool:
    """Close the event (done, skipped or failed) if this worker still holds it."""
    values = dict(status=status, lease_until=None, lease_owner="", finished_at=utcnow())
    if error:
        values["last_error"] = error[:4000]
    with db.session() as session:
        return bool(session.execute(update(InboxEvent).where(
            InboxEvent.id == event_id, InboxEvent.status == PROCESSING,
            InboxEvent.lease_owner == owner).values(**values)).rowcount)


def retry_later(db: Database, event_id: int, owner: str, error: str, *, max_attempts: int) -> str:
    """After a failed attempt: queue again with backoff, or mark failed once attempts run out.
    Returns the new status ("" if the lease was lost meanwhile)."""
    with db.session() as session:
        row = session.get(InboxEvent, event_id)
        if row is None or row.status != PROCESSING or row.lease_owner != owner:
            return ""
        if row.attempts >= max_attempts:
            status, available_at, finished_at = FAILED, None, utcnow()
            log.error("inbox event %s failed after %d attempts: %s", event_id, row.attempts, error)
        else:
            status, finished_at = QUEUED, None
            available_at = utcnow() + timedelta(seconds=min(2 ** row.attempts, 60))
        row.status, row.available_at, row.finished_at = status, available_at, finished_at
        row.lease_until, row.lease_owner, row.last_error = None, "", error[:4000]
    return status


def record_content_error(db: Database, event_id: int, error: str) -> None:
    with db.session() as session:
        session.execute(update(InboxEvent).where(InboxEvent.id == event_id).values(content_error=error[:4000]))


def status_counts(db: Database, statuses: tuple[str, ...] | None = None) -> dict[str, int]:
    """Events per status (only `statuses` when given: cheap on a big inbox, the status is indexed)."""
    query = select(InboxEvent.status, func.count()).group_by(InboxEvent.status)
    if statuses is not None:
        query = query.where(InboxEvent.status.in_(statuses))
    with db.session() as session:
        rows = session.execute(query).all()
    counts = {status: 0 for status in statuses or [status.value for status in InboxStatus]}
    counts.update({status: count for status, count in rows})
    return counts


def failed_events(db: Database, limit: int = 50) -> list[InboxEvent]:
    with db.session() as session:
        return list(session.scalars(select(InboxEvent).where(InboxEvent.status == FAILED)
                                    .order_by(InboxEvent.id.desc()).limit(limit)))


def requeue(db: Database, event_ids: list[int] | None = None) -> int:
    """Staff: give failed events a fresh set of attempts (all of them when `event_ids` is None)."""
    query = update(InboxEvent).where(InboxEvent.status == FAILED)
    if event_ids is not None:
        query = query.where(InboxEvent.id.in_(event_ids))
    with db.session() as session:
        return session.execute(query.values(status=QUEUED, attempts=0, available_at=None,
                                            finished_at=None)).rowcount


def oldest_queued_age_seconds(db: Database) -> float:
    """How long the oldest event still waiting for a worker has waited (0 when none waits)."""
    with db.session() as session:
        oldest = session.scalar(select(func.min(InboxEvent.received_at)).where(InboxEvent.status == QUEUED))
    return max(0.0, (utcnow() - oldest).total_seconds()) if oldest is not None else 0.0


def due_chats(db: Database, *, older_than_seconds: float, limit: int = 500) -> list[str]:
    """Chats with work nobody seems to be doing: queued for a while, due retries, expired leases."""
    now = utcnow()
    stale = now - timedelta(seconds=older_than_seconds)
    with db.session() as session:
        return list(session.scalars(select(InboxEvent.chat_id).where(or_(
            and_(InboxEvent.status == QUEUED, InboxEvent.available_at.is_(None), InboxEvent.received_at <= stale),
            and_(InboxEvent.status == QUEUED, InboxEvent.available_at <= now),
            and_(InboxEvent.status == PROCESSING, InboxEvent.lease_until < now))).distinct().limit(limit)))
