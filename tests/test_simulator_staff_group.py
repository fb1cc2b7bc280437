"""The simulator's staff group chat: the bot's pushes to STAFF_LINE_TARGET land there (retry keys as
for customers), and it is there again after a reset."""
from __future__ import annotations

import httpx
from simulator_bot import ServerThread

from simulator.app import create_simulator_app
from simulator.core import DEV_STAFF_GROUP_ID, SimulatorConfig

AUTH = {"Authorization": "Bearer t"}


def test_pushes_to_the_staff_group_are_shown_in_its_chat():
    app = create_simulator_app(SimulatorConfig(channel_secret="s", access_token="t",
                                               staff_group_id=DEV_STAFF_GROUP_ID))
    with ServerThread(app) as server, httpx.Client(base_url=server.url + "/sim", timeout=10) as http:
        [group] = http.get("/api/chats").json()["groups"]
        assert (group["chat_id"], group["name"], group["joined"]) == (DEV_STAFF_GROUP_ID, "กลุ่มพนักงานร้าน", True)
        body = {"to": DEV_STAFF_GROUP_ID, "messages": [{"type": "text", "text": "🛒 คำสั่งซื้อใหม่ชำระแล้ว"}]}
        key = {"X-Line-Retry-Key": "1b4e28ba-2fa1-11d2-883f-0016d3cca427"}
        assert http.post("/line/v2/bot/message/push", json=body, headers={**AUTH, **key}).status_code == 200
        assert http.post("/line/v2/bot/message/push", json=body, headers={**AUTH, **key}).status_code == 409
        entries = http.get(f"/api/chats/{DEV_STAFF_GROUP_ID}/transcript").json()["entries"]
        assert [e["message"]["text"] for e in entries if e["kind"] == "message"] == ["🛒 คำสั่งซื้อใหม่ชำระแล้ว"]
        http.post("/api/reset")
        assert [g["chat_id"] for g in http.get("/api/chats").json()["groups"]] == [DEV_STAFF_GROUP_ID]
