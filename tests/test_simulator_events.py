"""Webhook events the simulator sends: the shapes LINE sends today, signed over the exact bytes,
and parsed by line-bot-sdk v3's WebhookParser into real event classes (never UnknownEvent)."""
from __future__ import annotations

import re

import pytest
from linebot.v3 import WebhookParser
from linebot.v3.exceptions import InvalidSignatureError
from linebot.v3.webhooks import (
    FollowEvent,
    ImageMessageContent,
    MessageEvent,
    PostbackEvent,
    TextMessageContent,
    UnfollowEvent,
)
from ulid import ULID

from simulator import events as ev

SECRET = "0123456789abcdef0123456789abcdef"
USER = "U" + "a1" * 16


def parse(events: list[dict], secret: str = SECRET):
    body = ev.webhook_body("U" + "0" * 32, events)
    return WebhookParser(secret).parse(body.decode("utf-8"), ev.sign(body, secret))


def test_text_event_parses_as_text_message_with_thai_intact():
    event = ev.text_event(USER, "มี Catan ไหมคะ 🎲")
    [parsed] = parse([event])
    assert isinstance(parsed, MessageEvent)
    assert isinstance(parsed.message, TextMessageContent)
    assert parsed.message.text == "มี Catan ไหมคะ 🎲"
    assert parsed.message.quote_token == event["message"]["quoteToken"]
    assert parsed.reply_token == event["replyToken"]
    assert parsed.source.user_id == USER
    assert parsed.mode.value == "active"
    assert parsed.delivery_context.is_redelivery is False
    assert str(ULID.from_str(parsed.webhook_event_id)) == event["webhookEventId"]


def test_body_carries_thai_as_utf8_and_the_signature_covers_those_bytes():
    body = ev.webhook_body("U" + "0" * 32, [ev.text_event(USER, "สวัสดีค่ะ")])
    assert "สวัสดีค่ะ".encode() in body
    with pytest.raises(InvalidSignatureError):
        WebhookParser(SECRET).parse(body.decode(), ev.sign(body + b" ", SECRET))
    with pytest.raises(InvalidSignatureError):
        WebhookParser("another-secret").parse(body.decode(), ev.sign(body, SECRET))


def test_image_events_of_one_upload_share_an_image_set():
    set_id = ev.new_image_set_id()
    first = ev.image_event(USER, ev.new_message_id(), (set_id, 1, 2))
    second = ev.image_event(USER, ev.new_message_id(), (set_id, 2, 2))
    parsed = parse([first, second])
    assert all(isinstance(p.message, ImageMessageContent) for p in parsed)
    assert [p.message.image_set.index for p in parsed] == [1, 2]
    assert {p.message.image_set.id for p in parsed} == {set_id}
    assert parsed[0].message.content_provider.type == "line"
    single = ev.image_event(USER, ev.new_message_id())
    assert "imageSet" not in single["message"]


def test_postback_with_and_without_params():
    with_params, plain = parse([ev.postback_event(USER, "action=book", {"datetime": "2026-12-01T10:00"}),
                                ev.postback_event(USER, "add:catan")])
    assert isinstance(with_params, PostbackEvent)
    assert with_params.postback.data == "action=book"
    assert with_params.postback.params == {"datetime": "2026-12-01T10:00"}
    assert plain.postback.data == "add:catan" and not plain.postback.params


def test_follow_and_unfollow():
    follow, unfollow = parse([ev.follow_event(USER, is_unblocked=True), ev.unfollow_event(USER)])
    assert isinstance(follow, FollowEvent) and follow.follow.is_unblocked is True and follow.reply_token
    assert isinstance(unfollow, UnfollowEvent)
    assert "replyToken" not in ev.unfollow_event(USER)


def test_redelivery_keeps_id_token_and_timestamp():
    event = ev.text_event(USER, "ซ้ำ")
    again = ev.as_redelivery(event)
    [parsed] = parse([again])
    assert parsed.delivery_context.is_redelivery is True
    assert again["webhookEventId"] == event["webhookEventId"]
    assert again["replyToken"] == event["replyToken"]
    assert again["timestamp"] == event["timestamp"]
    assert event["deliveryContext"]["isRedelivery"] is False  # the original is untouched


def test_ids_have_line_formats():
    assert re.fullmatch(r"U[0-9a-f]{32}", ev.new_user_id())
    first, second = ev.new_message_id(), ev.new_message_id()
    assert re.fullmatch(r"\d{18}", first) and int(second) > int(first)
    assert re.fullmatch(r"[0-9a-f]{32}", ev.new_reply_token())
    assert len(str(ev.text_event(USER, "x")["timestamp"])) == 13  # milliseconds
