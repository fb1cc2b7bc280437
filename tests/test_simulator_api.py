"""The simulator's JSON API against a real (tiny) bot over HTTP: the bot uses line-bot-sdk v3 on both
sides, so every event must parse and every platform answer must satisfy the SDK's models."""
from __future__ import annotations

import base64
import io
import time

import pytest
from linebot.v3.models import UnknownEvent
from linebot.v3.webhooks import FollowEvent, MessageEvent, PostbackEvent, UnfollowEvent
from PIL import Image
from simulator_bot import simulator_with_bot


@pytest.fixture(scope="module")
def pair():
    with simulator_with_bot() as running:
        yield running


def texts(response) -> list[str]:
    return [m["text"] for m in response.json()["messages"] if m["type"] == "text"]


def test_text_gets_the_bots_reply(pair):
    response = pair.say("alice", {"text": "มี Catan ไหมคะ"})
    assert response.status_code == 200, response.text
    assert texts(response) == ["คุณพิมพ์ว่า: มี Catan ไหมคะ"]
    assert response.json()["messages"][0]["quickReply"]["items"][0]["action"]["label"] == "ดูเมนู"
    assert response.json()["webhooks"][0]["status"] == 200
    assert not any(isinstance(e, UnknownEvent) for e in pair.bot.events)


def test_flex_carousel_and_postback_with_display_text(pair):
    menu = pair.say("bob", {"text": "เมนู"}).json()
    [flex] = menu["messages"]
    assert flex["type"] == "flex" and len(flex["contents"]["contents"]) == 2
    action = flex["contents"]["contents"][0]["footer"]["contents"][0]["action"]
    answer = pair.say("bob", {"postback": {"data": action["data"], "displayText": action["displayText"]}})
    assert texts(answer) == ["ได้รับ add:catan แล้วค่ะ"]
    assert isinstance(pair.bot.events[-1], PostbackEvent)
    user_lines = [e["message"]["text"] for e in pair.http.get("/api/chats/bob/transcript").json()["entries"]
                  if e["from"] == "user" and e["kind"] == "message"]
    assert user_lines == ["เมนู", "ใส่ Catan เกมค้าขายบนเกาะ ลงตะกร้า"]


def test_follow_gets_a_welcome_and_unfollow_returns_at_once(pair):
    assert texts(pair.say("carol", {"follow": True})) == ["ยินดีต้อนรับค่ะ"]
    assert isinstance(pair.bot.events[-1], FollowEvent)
    response = pair.say("carol", {"unfollow": True})
    assert response.status_code == 200 and response.json()["messages"] == []
    assert isinstance(pair.bot.events[-1], UnfollowEvent)
    chats = {c["display_name"]: c for c in pair.http.get("/api/chats").json()["chats"]}
    assert chats["carol"]["following"] is False


def test_push_answers_count_as_answers(pair):
    response = pair.say("dave", {"text": "push"})
    assert [e["via"] for e in response.json()["entries"]] == ["push"]
    assert texts(response) == ["ส่งแบบ push ค่ะ"]


def test_a_bot_that_never_answers_times_out_clearly(pair):
    started = time.monotonic()
    response = pair.say("erin", {"text": "เงียบ"}, timeout=1)
    assert response.status_code == 504
    assert response.json()["error"] == "timeout"
    assert "did not answer within 1 s" in response.json()["message"]
    assert time.monotonic() - started < 5


def test_invalid_bot_messages_come_back_as_lines_error(pair):
    response = pair.say("frank", {"text": "ยาว"})
    assert response.status_code == 200
    [error] = response.json()["errors"]
    assert error["status"] == 400
    assert error["error"]["details"] == [{"message": "Length must be between 0 and 5000",
                                          "property": "messages[0].text"}]
    assert pair.bot.api_errors[-1].status == 400


def png_base64(size=(64, 64)) -> str:
    out = io.BytesIO()
    Image.new("RGB", size, (10, 120, 200)).save(out, format="PNG")
    return base64.b64encode(out.getvalue()).decode()


def test_image_upload_reaches_the_bot_through_the_content_api(pair):
    response = pair.say("gina", {"images_base64": [png_base64(), png_base64()]})
    assert texts(response) == ["ไม่พบ QR ในสลิปค่ะ", "ไม่พบ QR ในสลิปค่ะ"]
    images = [e for e in pair.bot.events[-2:] if isinstance(e, MessageEvent)]
    assert [e.message.image_set.index for e in images] == [1, 2]


def test_bad_uploads_are_refused_clearly(pair):
    not_image = pair.say("hana", {"image_base64": base64.b64encode(b"%PDF-1.4 not an image").decode()})
    assert (not_image.status_code, not_image.json()["error"]) == (415, "not_an_image")
    assert pair.say("hana", {"image_base64": "***"}).status_code == 400
    huge = pair.say("hana", {"image_base64": "A" * (17 * 1024 * 1024)})
    assert huge.status_code == 413 and "MB" in huge.json()["message"]
    big = base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(10 * 1024 * 1024)).decode()
    too_big = pair.say("hana", {"image_base64": big})
    assert (too_big.status_code, too_big.json()["error"]) == (413, "image_too_large")
    assert pair.say("hana", {"nothing": 1}).status_code == 400


def test_a_decompression_bomb_is_refused_not_a_500(pair):
    out = io.BytesIO()
    Image.new("1", (20000, 20000)).save(out, format="PNG")  # a few hundred kB, 400 megapixels
    bomb = pair.say("hana", {"image_base64": base64.b64encode(out.getvalue()).decode()})
    assert (bomb.status_code, bomb.json()["error"]) == (413, "image_too_large")


def test_page_media_links_are_unguessable_tokens(pair):
    pair.say("gina", {"image_base64": png_base64()})
    entries = pair.http.get("/api/chats/gina/transcript").json()["entries"]
    url = next(e["message"]["originalContentUrl"] for e in reversed(entries)
               if e.get("message", {}).get("type") == "image")
    message_id = pair.bot.events[-1].message.id
    assert message_id not in url and len(url.rsplit("/", 1)[1]) >= 20
    assert pair.http.get(url.removeprefix("/sim")).status_code == 200
    assert pair.http.get(f"/media/{message_id}").status_code == 404


def test_send_again_redelivers_the_same_event(pair):
    response = pair.say("ivan", {"text": "ซ้ำนะ"})
    [event_id] = response.json()["event_ids"]
    first = pair.bot.events[-1]
    again = pair.http.post(f"/api/events/{event_id}/redeliver", params={"listen": "2"})
    assert again.status_code == 200 and again.json()["webhook"]["status"] == 200
    # the test bot does not de-duplicate: it answers again with the used token, and LINE refuses
    assert [e["error"]["message"] for e in again.json()["entries"]] == ["Invalid reply token"]
    redelivered = pair.bot.events[-1]
    assert redelivered.delivery_context.is_redelivery is True
    assert redelivered.webhook_event_id == first.webhook_event_id
    assert redelivered.reply_token == first.reply_token
    assert pair.http.post("/api/events/01ARZ3NDEKTSV4RRFFQ69G5FAV/redeliver").status_code == 404


def test_pay_the_last_promptpay_qr(pair):
    qr = pair.say("jane", {"text": "จ่าย 1260"}).json()
    assert [m["type"] for m in qr["messages"]] == ["text", "image"]
    paid = pair.http.post("/api/chats/jane/pay", json={"mode": "normal"})
    assert paid.status_code == 200, paid.text
    transfer = paid.json()["transfer"]
    assert transfer["amount"] == "1,260.00" and transfer["target"] == "0812345678"
    assert texts(paid) == [f"ได้รับเงิน 1260.00 บาท เลขที่ {transfer['trans_ref']} ค่ะ"]

    wrong = pair.http.post("/api/chats/jane/pay", json={"mode": "wrong_amount"})
    assert texts(wrong)[0].startswith("ได้รับเงิน 1160.00 บาท")
    unknown = pair.http.post("/api/chats/jane/pay", json={"mode": "unknown_ref"})
    assert texts(unknown) == ["ตรวจสลิปไม่ผ่าน (not_found) ค่ะ"]
    down = pair.http.post("/api/chats/jane/pay", json={"mode": "provider_down"})
    assert texts(down) == ["ตรวจสลิปไม่ผ่าน (bank_down) ค่ะ"]
    reused = pair.http.post("/api/chats/jane/pay", json={"mode": "reuse"})
    assert reused.json()["transfer"]["trans_ref"] == down.json()["transfer"]["trans_ref"]
    chosen = pair.http.post("/api/chats/jane/pay", json={"mode": "normal", "amount": "1,000.50"})
    assert texts(chosen)[0].startswith("ได้รับเงิน 1000.50 บาท")


def test_pay_errors(pair):
    nothing = pair.http.post("/api/chats/kim/pay", json={})
    assert nothing.status_code == 409 and "PromptPay" in nothing.json()["message"]
    assert pair.http.post("/api/chats/kim/pay", json={"mode": "steal"}).status_code == 400
    pair.say("kim", {"text": "จ่าย 50"})
    assert pair.http.post("/api/chats/kim/pay", json={"amount": "-5"}).status_code == 400


def test_a_bot_with_another_secret_rejects_the_webhook():
    with simulator_with_bot(bot_secret="a-different-secret") as pair:
        response = pair.say("lee", {"text": "สวัสดี"})
        assert response.status_code == 502
        assert response.json()["error"] == "webhook_failed" and "HTTP 400" in response.json()["message"]
        entries = pair.http.get("/api/chats/lee/transcript").json()["entries"]
        assert entries[0]["message"]["text"] == "สวัสดี"  # nothing lost: it can be sent again


def test_reset_clears_chats_and_transfers(pair):
    pair.say("mona", {"text": "hi"})
    assert pair.http.post("/api/reset").json() == {"reset": True}
    assert pair.http.get("/api/chats").json()["chats"] == []
    assert pair.http.get("/api/bank/transfers").json()["transfers"] == []


def test_python_client_drives_a_chat(pair):
    from simulator.client import SimulatorClient, SimulatorError

    with SimulatorClient(pair.sim_url, timeout=5, settle=0.1) as client:
        menu = client.say("olive", "เมนู")
        assert [action["data"] for action in menu.postbacks()] == ["add:catan", "add:splendor", "cart"]
        added = client.click("olive", menu.postbacks()[1])
        assert added.texts == ["ได้รับ add:splendor แล้วค่ะ"]
        client.say("olive", "จ่าย 990")
        paid = client.pay("olive")
        assert paid.texts[0].startswith("ได้รับเงิน 990.00 บาท") and paid.raw["transfer"]["amount_satang"] == 99_000
        with pytest.raises(SimulatorError) as refused:
            client.send_image("olive", b"GIF89a not really")
        assert refused.value.status == 415
        assert client.transcript("olive")[-1]["from"] == "bot"
