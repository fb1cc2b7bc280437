"""The Messaging API side of the simulator: LINE's response shapes, auth, and rules enforced with
LINE's status codes and error bodies."""
from __future__ import annotations

import io
import re
import time

import pytest
from PIL import Image

from simulator import events as ev
from simulator.app import create_simulator_app
from simulator.core import SimulatorConfig

TOKEN = "test-access-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
AUTH_FAILED = {"message": "Authentication failed. Confirm that the access token in the authorization header is valid."}


@pytest.fixture
def app():
    return create_simulator_app(SimulatorConfig(channel_secret="s", access_token=TOKEN,
                                                bot_url="http://127.0.0.1:9/callback"))


@pytest.fixture
def sim(app, monkeypatch):
    simulator = app.extensions["salesbot.simulator"]
    # These tests look at the platform side only: record events without POSTing them anywhere.
    monkeypatch.setattr(simulator, "_post", lambda user_id, event, url: {"status": 200})
    return simulator


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def customer(sim):
    return sim.add_customer("สมหญิง ทดสอบ")


def new_token(sim, customer) -> str:
    event = ev.text_event(customer.user_id, "สวัสดีค่ะ")
    sim.send(customer.user_id, event, {"message": event["message"]}, "unused")
    return event["replyToken"]


def reply(client, token, messages, headers=AUTH):
    return client.post("/sim/line/v2/bot/message/reply", json={"replyToken": token, "messages": messages},
                       headers=headers)


def text(value="ได้เลยค่ะ"):
    return {"type": "text", "text": value}


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}])
def test_wrong_or_missing_token_is_401_with_lines_body(client, headers):
    response = client.post("/sim/line/v2/bot/message/push", json={}, headers=headers)
    assert response.status_code == 401
    assert response.json == AUTH_FAILED
    assert client.get("/sim/line/v2/bot/profile/U" + "0" * 32, headers=headers).status_code == 401


def test_reply_returns_sent_messages_and_the_token_is_single_use(client, sim, customer):
    token = new_token(sim, customer)
    first = reply(client, token, [text(), {"type": "image", "originalContentUrl": "https://x.test/a.png",
                                           "previewImageUrl": "https://x.test/a.png"}])
    assert first.status_code == 200
    sent = first.json["sentMessages"]
    assert re.fullmatch(r"\d{18}", sent[0]["id"]) and sent[0]["quoteToken"]
    assert "quoteToken" not in sent[1]
    assert first.headers["x-line-request-id"]
    again = reply(client, token, [text()])
    assert (again.status_code, again.json) == (400, {"message": "Invalid reply token"})
    bot_messages = [e["message"] for e in sim.transcript(customer.user_id) if e["from"] == "bot"]
    assert bot_messages[0] == text()


def test_reply_token_expires_sixty_seconds_after_the_event(client, sim, customer):
    token = new_token(sim, customer)
    issued = sim.tokens[token]
    assert issued.expires - issued.issued == pytest.approx(60)
    issued.expires = time.time() - 0.01
    assert reply(client, token, [text()]).json == {"message": "Invalid reply token"}
    assert reply(client, "f" * 32, [text()]).json == {"message": "Invalid reply token"}


def test_redelivery_revives_an_unused_token_but_not_a_used_one(client, sim, customer):
    token = new_token(sim, customer)
    sim.tokens[token].expires = time.time() - 1
    sim.redeliver(sim.tokens[token].event_id, "unused")
    assert reply(client, token, [text()]).status_code == 200
    sim.redeliver(sim.tokens[token].event_id, "unused")
    assert reply(client, token, [text()]).status_code == 400


def test_redelivery_after_twenty_minutes_does_not_revive(client, sim, customer):
    token = new_token(sim, customer)
    sim.tokens[token].issued -= 20 * 60 + 1
    sim.tokens[token].expires = time.time() - 1
    sim.redeliver(sim.tokens[token].event_id, "unused")
    assert reply(client, token, [text()]).status_code == 400


def test_more_than_five_messages_is_refused_and_the_token_survives(client, sim, customer):
    token = new_token(sim, customer)
    response = reply(client, token, [text()] * 6)
    assert response.status_code == 400
    assert response.json == {"message": "The request body has 1 error(s)",
                             "details": [{"message": "Size must be between 1 and 5", "property": "messages"}]}
    assert reply(client, token, [text()] * 5).status_code == 200


def test_text_length_counts_utf16_units(client, sim, customer):
    assert reply(client, new_token(sim, customer), [text("ก" * 5000)]).status_code == 200
    assert reply(client, new_token(sim, customer), [text("🍎" * 2500)]).status_code == 200
    response = reply(client, new_token(sim, customer), [text("🍎" * 2501)])
    assert response.status_code == 400
    assert response.json["details"] == [{"message": "Length must be between 0 and 5000",
                                         "property": "messages[0].text"}]
    assert reply(client, new_token(sim, customer), [text("")]).json["details"][0]["message"] == "May not be empty"


def bubble(**blocks):
    return {"type": "bubble", **blocks}


def body_box(*contents, layout="vertical"):
    return {"type": "box", "layout": layout, "contents": list(contents)}


def flex(contents, alt="การ์ดสินค้า"):
    return {"type": "flex", "altText": alt, "contents": contents}


def flex_details(client, sim, customer, contents):
    response = reply(client, new_token(sim, customer), [text(), flex(contents)])
    assert response.status_code == 400, response.json
    assert response.json["message"] == "A message (messages[1]) in the request body is invalid"
    return response.json["details"]


def test_valid_flex_carousel_is_accepted(client, sim, customer):
    card = bubble(body=body_box({"type": "text", "text": "Catan", "weight": "bold"},
                                {"type": "box", "layout": "baseline", "contents": [
                                    {"type": "icon", "url": "https://x.test/star.png"},
                                    {"type": "text", "text": "4.5"}]},
                                {"type": "separator"}, {"type": "spacer", "size": "sm"}),
                  footer=body_box({"type": "button", "action": {"type": "postback", "label": "ใส่ตะกร้า",
                                                                "data": "add:catan"}}))
    twelve = flex({"type": "carousel", "contents": [card] * 12})
    assert reply(client, new_token(sim, customer), [twelve]).status_code == 200


def test_flex_rules(client, sim, customer):
    card = bubble(body=body_box(text()))
    assert flex_details(client, sim, customer, {"type": "carousel", "contents": [card] * 13}) == [
        {"message": "Size must be between 1 and 12", "property": "/contents"}]
    assert flex_details(client, sim, customer, bubble()) == [
        {"message": "At least one block must be specified", "property": "/"}]
    assert flex_details(client, sim, customer, bubble(body=body_box({"type": "button"}))) == [
        {"message": "May not be empty", "property": "/body/contents/0/action"}]
    assert flex_details(client, sim, customer, bubble(body=body_box({"type": "text"}))) == [
        {"message": "must be specified", "property": "/body/contents/0/text"}]
    assert flex_details(client, sim, customer, bubble(body=body_box({"type": "image", "url": "ftp://x/a.png"}))) == [
        {"message": "invalid uri scheme", "property": "/body/contents/0/url"}]
    baseline = body_box({"type": "button", "action": {"type": "uri", "label": "ดู", "uri": "https://x.test"}},
                        layout="baseline")
    assert flex_details(client, sim, customer, bubble(body=baseline))[0]["property"] == "/body/contents/0/type"
    huge = bubble(body=body_box(*[text("ข้อความยาว " * 20)] * 60))
    [detail] = flex_details(client, sim, customer, huge)
    assert detail["message"].startswith("Too large flex message. The maximum size of JSON data is 30KB")


def test_http_image_is_only_a_warning_locally(client, sim, customer):
    url = "http://127.0.0.1:8000/media/qr.png"
    response = reply(client, new_token(sim, customer), [{"type": "image", "originalContentUrl": url,
                                                         "previewImageUrl": url}])
    assert response.status_code == 200
    warnings = [e for e in sim.log_since(0) if e["kind"] == "warning"]
    assert warnings and "HTTPS" in warnings[0]["summary"]


def test_quick_reply_limit_and_postback_data_length(client, sim, customer):
    items = [{"type": "action", "action": {"type": "message", "label": f"ตัวเลือก {i}", "text": str(i)}}
             for i in range(14)]
    response = reply(client, new_token(sim, customer), [{**text(), "quickReply": {"items": items}}])
    assert response.json["details"] == [{"message": "Size must be between 1 and 13",
                                         "property": "messages[0].quickReply.items"}]
    long_data = [{"type": "action", "action": {"type": "postback", "label": "ยาว", "data": "x" * 301}}]
    response = reply(client, new_token(sim, customer), [{**text(), "quickReply": {"items": long_data}}])
    assert response.json["details"] == [{"message": "Length must be between 0 and 300",
                                         "property": "messages[0].quickReply.items[0].action.data"}]


def test_broken_rule_is_shown_in_the_chat_and_the_log(client, sim, customer):
    reply(client, new_token(sim, customer), [text("🍎" * 2501)])
    [error] = [e for e in sim.transcript(customer.user_id) if e["kind"] == "error"]
    assert error["status"] == 400 and error["api"] == "reply"
    assert error["error"]["details"][0]["property"] == "messages[0].text"
    assert any(e["kind"] == "violation" and e["user_id"] == customer.user_id for e in sim.log_since(0))


def push(client, to, messages, key=None):
    headers = dict(AUTH)
    if key:
        headers["X-Line-Retry-Key"] = key
    return client.post("/sim/line/v2/bot/message/push", json={"to": to, "messages": messages}, headers=headers)


def test_push_with_a_retry_key_runs_once_then_409(client, sim, customer):
    key = "123e4567-e89b-12d3-a456-426614174000"
    first = push(client, customer.user_id, [text("ชำระเงินเรียบร้อยค่ะ")], key)
    assert first.status_code == 200
    again = push(client, customer.user_id, [text("ชำระเงินเรียบร้อยค่ะ")], key)
    assert again.status_code == 409
    assert again.json == {"message": "The retry key is already accepted", "sentMessages": first.json["sentMessages"]}
    assert again.headers["x-line-accepted-request-id"] == first.headers["x-line-request-id"]
    pushed = [e for e in sim.transcript(customer.user_id) if e["from"] == "bot"]
    assert len(pushed) == 1 and pushed[0]["via"] == "push"


def test_push_rules(client, sim, customer):
    assert push(client, customer.user_id, [text()], "not-a-uuid").status_code == 400
    unknown = push(client, "U" + "0" * 32, [text()])
    assert unknown.json == {"message": "The property, 'to', in the request body is invalid (line: -, column: -)"}
    token = new_token(sim, customer)
    with_key = client.post("/sim/line/v2/bot/message/reply", json={"replyToken": token, "messages": [text()]},
                           headers={**AUTH, "X-Line-Retry-Key": "123e4567-e89b-12d3-a456-426614174000"})
    assert with_key.status_code == 400


def test_loading_animation(client, sim, customer):
    ok = client.post("/sim/line/v2/bot/chat/loading/start", json={"chatId": customer.user_id, "loadingSeconds": 20},
                     headers=AUTH)
    assert (ok.status_code, ok.json) == (202, {})
    assert sim.customer(customer.user_id).loading_until > time.time()
    bad = client.post("/sim/line/v2/bot/chat/loading/start", json={"chatId": customer.user_id, "loadingSeconds": 7},
                      headers=AUTH)
    assert bad.status_code == 400 and bad.json["details"][0]["property"] == "loadingSeconds"
    push(client, customer.user_id, [text()])
    assert sim.customer(customer.user_id).loading_until == 0  # a message ends the animation


def png_bytes(size=(800, 600), color=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format="PNG")
    return out.getvalue()


def test_content_and_preview_and_profile(client, sim, customer):
    data = png_bytes()
    message_id = sim.store_image(customer.user_id, data)
    full = client.get(f"/sim/line/v2/bot/message/{message_id}/content", headers=AUTH)
    assert full.status_code == 200 and full.data == data and full.mimetype == "image/png"
    preview = client.get(f"/sim/line/v2/bot/message/{message_id}/content/preview", headers=AUTH)
    assert preview.mimetype == "image/jpeg"
    assert max(Image.open(io.BytesIO(preview.data)).size) <= 240
    assert client.get("/sim/line/v2/bot/message/1/content", headers=AUTH).status_code == 404
    profile = client.get(f"/sim/line/v2/bot/profile/{customer.user_id}", headers=AUTH)
    assert profile.json == {"displayName": "สมหญิง ทดสอบ", "userId": customer.user_id, "language": "th"}
    assert client.get("/sim/line/v2/bot/profile/U" + "0" * 32, headers=AUTH).status_code == 404


def test_standalone_without_a_token_accepts_any_bearer_but_not_none():
    app = create_simulator_app(SimulatorConfig(channel_secret="s", access_token=None))
    client = app.test_client()
    assert client.get("/sim/line/v2/bot/profile/U" + "0" * 32, headers={"Authorization": "Bearer x"}).status_code == 404
    assert client.get("/sim/line/v2/bot/profile/U" + "0" * 32).status_code == 401


def test_push_to_a_customer_who_blocked_the_account_is_accepted_with_a_warning(client, sim, customer):
    sim.customers[customer.user_id].following = False
    assert push(client, customer.user_id, [text()]).status_code == 200
    assert any(e["kind"] == "warning" and "blocked" in e["summary"] for e in sim.log_since(0))


@pytest.mark.parametrize("body", [{"to": ["U1"], "messages": [{"type": "text", "text": "x"}]},
                                  {"messages": "not a list"}, [], "text"])
def test_malformed_push_bodies_get_lines_400_not_a_crash(client, body):
    response = client.post("/sim/line/v2/bot/message/push", json=body, headers=AUTH)
    assert response.status_code == 400 and response.json["message"]


@pytest.mark.parametrize("messages", [
    None, {}, [None], [{"type": "flex", "altText": "x", "contents": {"type": "carousel", "contents": "x"}}],
    [{"type": "flex", "altText": "x", "contents": {"type": "bubble", "body": {"type": "box", "layout": "vertical",
                                                                             "contents": [1, {"type": "text",
                                                                                              "contents": "ab"}]}}}],
    [{"type": "text", "text": 5, "quickReply": {"items": [{"type": "action", "action": "x"}]}}],
])
def test_malformed_replies_get_lines_400_not_a_crash(client, sim, customer, messages):
    response = reply(client, new_token(sim, customer), messages)
    assert response.status_code == 400 and response.json["message"]
