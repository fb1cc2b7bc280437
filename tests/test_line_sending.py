"""LINE limits enforced before sending, and the SDK calls against a fake LINE server."""
from __future__ import annotations

import logging
import socket
import threading

import pytest
from fake_line_api import SECRET, TOKEN

from shop.settings import load_settings
from webhooks.line_api import ContentError, LineApi, LineApiError, checked_messages
from webhooks.line_limits import MAX_TEXT_UTF16, prepare_batches, split_text, utf16_len


def bubble(n: int) -> dict:
    return {"type": "bubble", "body": {"type": "box", "layout": "vertical",
                                       "contents": [{"type": "text", "text": f"เกม {n}"}]}}


def quick_reply(count: int, data: str = "action=add") -> dict:
    return {"items": [{"type": "action", "action": {"type": "postback", "label": f"ตัวเลือกที่ {n} ยาวมากเกินไป",
                                                    "data": data}} for n in range(count)]}


def test_utf16_length_counts_emoji_twice_and_thai_once():
    assert utf16_len("สวัสดี") == 6
    assert utf16_len("🎲") == 2
    assert utf16_len("a👍🏽") == 5


def test_long_thai_text_splits_at_line_breaks_and_keeps_every_character():
    paragraph = "บอร์ดเกมสำหรับครอบครัว เล่นสนุกได้ทุกวัย 🎲\n"
    text = paragraph * 300  # ~13,000 UTF-16 units
    pieces = split_text(text)
    assert len(pieces) == 3
    assert all(utf16_len(piece) <= MAX_TEXT_UTF16 for piece in pieces)
    assert all(piece.endswith("🎲") for piece in pieces)  # cut at a line break, not mid-line
    assert "".join(piece + "\n" for piece in pieces) == text


def test_text_without_spaces_is_cut_between_characters_not_inside_a_surrogate_or_mark():
    text = "กี่" * 3000  # base + vowel + tone mark, no spaces
    pieces = split_text(text)
    assert "".join(pieces) == text
    assert all(utf16_len(piece) <= MAX_TEXT_UTF16 for piece in pieces)
    assert all(piece.startswith("ก") for piece in pieces)
    emoji = "😀" * 4000
    emoji_pieces = split_text(emoji)
    assert "".join(emoji_pieces) == emoji and all(utf16_len(piece) <= MAX_TEXT_UTF16 for piece in emoji_pieces)


def test_batches_of_five_and_quick_reply_stays_on_the_last_piece():
    long_text = {"type": "text", "text": ("ก" * 4000 + "\n") * 3, "quickReply": quick_reply(20)}
    batches = prepare_batches([{"type": "text", "text": f"ข้อ {n}"} for n in range(4)] + [long_text])
    assert [len(batch) for batch in batches] == [5, 2]
    flat = [message for batch in batches for message in batch]
    assert [("quickReply" in message) for message in flat] == [False] * 6 + [True]
    items = flat[-1]["quickReply"]["items"]
    assert len(items) == 13 and all(len(item["action"]["label"]) <= 20 for item in items)


def test_big_carousel_becomes_several_and_alt_text_is_trimmed():
    carousel = {"type": "carousel", "contents": [bubble(n) for n in range(30)]}
    message = {"type": "flex", "altText": "ก" * 2000, "contents": carousel}
    [batch] = prepare_batches([message])
    assert [len(m["contents"]["contents"]) for m in batch] == [12, 12, 6]
    assert all(len(m["altText"]) <= 1500 for m in batch)
    assert checked_messages(batch) == batch


def test_postback_data_is_trimmed_and_http_images_dropped_outside_development():
    image = {"type": "image", "originalContentUrl": "http://shop.example/qr.png", "previewImageUrl": "http://shop.example/qr.png"}
    flex = {"type": "flex", "altText": "สินค้า", "contents": {"type": "bubble",
            "hero": {"type": "image", "url": "http://shop.example/box.png"},
            "body": {"type": "box", "layout": "vertical", "contents": [{"type": "button", "action": {
                "type": "postback", "label": "ใส่ตะกร้า", "data": "x" * 400}}]}}}
    [batch] = prepare_batches([image, flex], allow_http_images=False)
    assert len(batch) == 1 and "hero" not in batch[0]["contents"]
    assert len(batch[0]["contents"]["body"]["contents"][0]["action"]["data"]) == 300
    [allowed] = prepare_batches([image], allow_http_images=True)
    assert allowed == [image]


def test_invalid_messages_are_dropped_not_sent(caplog):
    caplog.set_level(logging.ERROR)
    good = {"type": "text", "text": "ดีค่ะ"}
    batches = prepare_batches([good, {"type": "sticker"}, {"type": "bogus"}, "not a dict", {"type": "text", "text": " "}],
                              validate=checked_messages)
    assert batches == [[good]]
    assert "LINE would refuse" in caplog.text


@pytest.fixture
def line(fake_line):
    settings = load_settings(app_env="test", line_channel_secret=SECRET, line_channel_access_token=TOKEN,
                             line_api_base_url=fake_line.url, line_timeout_seconds=2)
    api = LineApi(settings)
    api.push_backoff_seconds = 0.01
    yield api
    api.close()


def test_reply_push_loading_and_content_all_go_to_the_configured_host(line, fake_line):
    fake_line.content["42"] = (200, b"\x89PNG data", "image/png")
    assert line.show_loading_animation("U1")
    line.reply("token-1", [{"type": "text", "text": "สวัสดีค่ะ"}])
    assert line.push("U1", [{"type": "text", "text": "แจ้งเตือนค่ะ"}], "key-1") == "sent"
    content = line.get_content("42", max_bytes=1000)
    assert content.data == b"\x89PNG data" and content.content_type == "image/png"
    assert [call["kind"] for call in fake_line.calls] == ["loading", "reply", "push", "content"]
    assert all(call["auth"] == f"Bearer {TOKEN}" for call in fake_line.calls)


def test_used_reply_token_raises_invalid_reply_token(line, fake_line):
    line.reply("once", [{"type": "text", "text": "ครั้งแรก"}])
    with pytest.raises(LineApiError) as raised:
        line.reply("once", [{"type": "text", "text": "ครั้งที่สอง"}])
    assert raised.value.invalid_reply_token and not raised.value.retryable


def test_push_retries_server_errors_and_treats_409_as_sent(line, fake_line):
    fake_line.fail_next = [500, 429]
    assert line.push("U1", [{"type": "text", "text": "ลองใหม่"}], "key-2") == "sent"
    assert [call["status"] for call in fake_line.of("push")] == [500, 429, 200]
    assert line.push("U1", [{"type": "text", "text": "ลองใหม่"}], "key-2") == "duplicate"
    fake_line.fail_next = [503, 503, 503]
    with pytest.raises(LineApiError) as raised:
        line.push("U1", [{"type": "text", "text": "ล่ม"}], "key-3")
    assert raised.value.status == 503 and raised.value.retryable


def test_every_call_has_a_timeout_and_errors_never_show_the_token(caplog):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)  # accepts connections, never answers
    port = listener.getsockname()[1]
    settings = load_settings(app_env="test", line_channel_access_token="very-secret-token",
                             line_api_base_url=f"http://127.0.0.1:{port}", line_timeout_seconds=0.3)
    api = LineApi(settings)
    caplog.set_level(logging.DEBUG)
    done = threading.Event()

    def calls():
        with pytest.raises(LineApiError) as raised:
            api.reply("t", [{"type": "text", "text": "x"}])
        assert raised.value.status == 0 and raised.value.retryable
        with pytest.raises(ContentError):
            api.get_content("1", max_bytes=10)
        assert not api.show_loading_animation("U1")
        done.set()

    thread = threading.Thread(target=calls)
    thread.start()
    thread.join(20)
    listener.close()
    assert done.is_set(), "a LINE call hung without a timeout"
    assert "very-secret-token" not in caplog.text
