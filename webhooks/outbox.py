"""Sending a turn's answer exactly once, even when the worker dies half way.

The computed messages are written as numbered batches, each with the method it will be sent by
(reply for the first batch while the reply token is fresh, else push) and its own push retry key,
before anything is sent; `sent_at` is set after the call (with the event closed in the same
transaction after the last batch). A retried event sends only the batches without `sent_at`:
- push: again with the same `X-Line-Retry-Key`; LINE answers 409 if the first push got through.
- reply: a reply token is single use. On a retry the earlier attempt may have used it, so a fresh
  token is tried once more: success means the first try never arrived, "Invalid reply token" means
  it did. When the token is too old to tell, the batch is not resent (at most once) and the doubt is
  logged. A reply that falls back to push is switched to "push" before the push.
Three commits per answered event: claim, record, sent+close.
"""
from __future__ import annotations

import json
import logging
import time
import uuid
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from shop.db import Database
from shop.models.base import utcnow
from shop.models.inbox import InboxEvent, OutboundMessage
from webhooks import inbox
from webhooks.line_api import LineApi, LineApiError

log = logging.getLogger(__name__)

REPLY_TOKEN_FRESH_MS = 50_000  # LINE: "use within one minute"; keep a margin for the call itself


class LeaseLost(Exception):
    """Another worker took this event over (our lease expired); stop without sending."""


def batches_of(db: Database, event_id: int) -> list[OutboundMessage]:
    with db.session() as session:
        return list(session.scalars(select(OutboundMessage).where(OutboundMessage.inbox_event_id == event_id)
                                    .order_by(OutboundMessage.sequence)))


def reply_token_of(event: dict) -> str:
    token = event.get("replyToken")
    return token if isinstance(token, str) else ""


def reply_token_fresh(event: dict, now_ms: int | None = None) -> bool:
    timestamp = event.get("timestamp") if isinstance(event.get("timestamp"), int) else 0
    age_ms = (now_ms if now_ms is not None else int(time.time() * 1000)) - timestamp
    return bool(reply_token_of(event)) and age_ms < REPLY_TOKEN_FRESH_MS


def record_batches(db: Database, event_id: int, owner: str, lease_seconds: float,
                   batches: list[list[dict]], *, reply_first: bool) -> bool:
    """Write the batches, each with the method it will be sent by, in the transaction that checks
    this worker still holds the event. Returns False when an earlier attempt already recorded them
    (its batches win, and some may have been sent)."""
    try:
        with db.session() as session:
            held = session.execute(update(InboxEvent).where(
                InboxEvent.id == event_id, InboxEvent.status == inbox.PROCESSING,
                InboxEvent.lease_owner == owner).values(
                lease_until=utcnow() + timedelta(seconds=lease_seconds))).rowcount
            if not held:
                raise LeaseLost(event_id)
            if session.scalar(select(OutboundMessage.id).where(OutboundMessage.inbox_event_id == event_id).limit(1)):
                return False
            for sequence, batch in enumerate(batches):
                session.add(OutboundMessage(inbox_event_id=event_id, sequence=sequence, retry_key=str(uuid.uuid4()),
                                            method="reply" if sequence == 0 and reply_first else "push",
                                            messages=json.dumps(batch, ensure_ascii=False)))
    except IntegrityError:
        log.info("inbox event %s: batches were recorded by another attempt", event_id)
        return False
    return True


def _set_method(db: Database, batch_id: int, method: str) -> None:
    with db.session() as session:
        session.execute(update(OutboundMessage).where(OutboundMessage.id == batch_id).values(method=method))


def _mark_sent(db: Database, batch_id: int, close: tuple[int, str, str, str] | None) -> None:
    """Mark a batch sent and, for the last one, close the event, in one transaction. The batch is
    marked even if the lease was lost meanwhile: it *was* sent."""
    with db.session() as session:
        session.execute(update(OutboundMessage).where(OutboundMessage.id == batch_id).values(sent_at=utcnow()))
        if close is not None:
            _close(session, *close)


def _close(session, event_id: int, owner: str, status: str, error: str) -> None:
    values = dict(status=status, lease_until=None, lease_owner="", finished_at=utcnow())
    if error:
        values["last_error"] = error[:4000]
    session.execute(update(InboxEvent).where(InboxEvent.id == event_id, InboxEvent.status == inbox.PROCESSING,
                                             InboxEvent.lease_owner == owner).values(**values))


QUOTING_TYPES = ("text", "textV2", "sticker")  # the message types LINE lets quote another message


def with_quote(messages: list[dict], event: dict) -> list[dict]:
    """A late answer (pushed after the reply token expired) quotes the customer's message, so the chat
    shows what it answers: the event's `quoteToken` on the first text or sticker message."""
    message = event.get("message") if isinstance(event.get("message"), dict) else {}
    token = message.get("quoteToken")
    if not isinstance(token, str) or not token:
        return messages
    for index, item in enumerate(messages):
        if item.get("type") in QUOTING_TYPES and "quoteToken" not in item:
            return [*messages[:index], {**item, "quoteToken": token}, *messages[index + 1:]]
    return messages


def deliver(db: Database, line: LineApi, *, event_id: int, event: dict, owner: str, lease_seconds: float,
            recorded_now: bool, close_status: str = inbox.DONE, close_error: str = "",
            now_ms: int | None = None) -> list[str]:
    """Send every unsent batch of the event in order, then close the event (`close_status`).
    `recorded_now`: the batches were written by this attempt, so no earlier call can have used the
    reply token. Returns what happened to each batch ("reply", "push", "duplicate", "in-doubt",
    "not-sent")."""
    outcomes = []
    reply_token = reply_token_of(event)
    source = event.get("source") if isinstance(event.get("source"), dict) else {}
    to = inbox.chat_id_of(event)
    unsent = [batch for batch in batches_of(db, event_id) if batch.sent_at is None]
    if not unsent:
        with db.session() as session:
            _close(session, event_id, owner, close_status, close_error)
        return outcomes
    for index, batch in enumerate(unsent):
        if index and not inbox.extend_lease(db, event_id, owner, lease_seconds):
            raise LeaseLost(event_id)
        messages = json.loads(batch.messages)
        outcome = ""
        if batch.method == "reply":
            if reply_token_fresh(event, now_ms):
                try:
                    line.reply(reply_token, messages)
                    outcome = "reply"
                except LineApiError as error:
                    if not error.invalid_reply_token:
                        raise
                    if not recorded_now:
                        outcome = "in-doubt"  # the token is used up: by the attempt that died
                    else:
                        log.info("inbox event %s: reply token refused, pushing instead", event_id)
            elif not recorded_now:
                log.warning("inbox event %s batch %s: a reply may have been delivered before a crash; "
                            "not resent (at most once)", event_id, batch.sequence)
                outcome = "in-doubt"
        if not outcome:
            if not to or (not reply_token and source.get("type") != "user"):
                log.warning("inbox event %s: nowhere to push (no reply token, not a user chat); "
                            "%d message(s) not sent", event_id, len(messages))
                outcome = "not-sent"
            else:
                if batch.method != "push":
                    _set_method(db, batch.id, "push")  # from now on a retry must push, never reply
                if batch.sequence == 0 and reply_token:   # the answer came too late for the reply token
                    messages = with_quote(messages, event)
                outcome = "push" if line.push(to, messages, batch.retry_key) == "sent" else "duplicate"
        last = index == len(unsent) - 1
        _mark_sent(db, batch.id, (event_id, owner, close_status, close_error) if last else None)
        outcomes.append(outcome)
    return outcomes
