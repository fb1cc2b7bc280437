"""A small Python client for the simulator's JSON API, for tests, benchmarks and evaluation scripts.

    with SimulatorClient("http://127.0.0.1:8000") as sim:
        answer = sim.say("alice", "มี Catan ไหมคะ")
        print(answer.texts)                       # the bot's text messages for that turn
        answer = sim.click("alice", answer.postbacks()[0])  # tap the first postback button or chip
        paid = sim.pay("alice")                    # pay the last PromptPay QR; the bot's answer to the slip
"""
from __future__ import annotations

import base64
from dataclasses import dataclass, field

import httpx


class SimulatorError(Exception):
    """The API refused or timed out: `status` and the JSON `body` say why."""

    def __init__(self, status: int, body: dict):
        super().__init__(f"HTTP {status}: {body.get('message') or body}")
        self.status, self.body = status, body


@dataclass
class Answer:
    """What the bot sent back for one customer action."""
    messages: list[dict]
    errors: list[dict] = field(default_factory=list)
    raw: dict = field(default_factory=dict)

    @property
    def texts(self) -> list[str]:
        return [m["text"] for m in self.messages if m.get("type") == "text"]

    def postbacks(self) -> list[dict]:
        """Every postback action on offer: Flex buttons and quick-reply chips, in order."""
        found: list[dict] = []

        def walk(node) -> None:
            if isinstance(node, dict):
                if node.get("type") == "postback" and "data" in node:
                    found.append(node)
                for key in sorted(node, key=lambda key: key == "quickReply"):  # chips come last
                    walk(node[key])
            elif isinstance(node, list):
                for value in node:
                    walk(value)

        walk(self.messages)
        return found


class SimulatorClient:
    def __init__(self, base_url: str = "http://127.0.0.1:8000", *, timeout: float = 10.0, settle: float = 0.5):
        """`base_url` is the origin serving /sim; `timeout` bounds each wait for the bot."""
        self.timeout = timeout
        self.http = httpx.Client(base_url=base_url.rstrip("/") + "/sim/api", timeout=timeout + 15,
                                 params={"timeout": str(timeout), "settle": str(settle)})

    def __enter__(self) -> SimulatorClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.http.close()

    def _post(self, path: str, body: dict) -> Answer:
        response = self.http.post(path, json=body)
        data = response.json()
        if response.status_code >= 400:
            raise SimulatorError(response.status_code, data)
        return Answer(messages=data.get("messages", []), errors=data.get("errors", []), raw=data)

    def say(self, user: str, text: str) -> Answer:
        return self._post(f"/chats/{user}/messages", {"text": text})

    def postback(self, user: str, data: str, display_text: str | None = None) -> Answer:
        return self._post(f"/chats/{user}/messages", {"postback": {"data": data, "displayText": display_text}})

    def click(self, user: str, action: dict) -> Answer:
        """Tap a postback action taken from an earlier answer (see `Answer.postbacks`)."""
        return self.postback(user, action["data"], action.get("displayText"))

    def send_image(self, user: str, *images: bytes) -> Answer:
        encoded = [base64.b64encode(image).decode("ascii") for image in images]
        body = {"image_base64": encoded[0]} if len(encoded) == 1 else {"images_base64": encoded}
        return self._post(f"/chats/{user}/messages", body)

    def follow(self, user: str) -> Answer:
        return self._post(f"/chats/{user}/messages", {"follow": True})

    def send(self, user: str, body: dict) -> Answer:
        """Any message body the JSON API takes (text, sticker, location, audio, video, file, ...)."""
        return self._post(f"/chats/{user}/messages", body)

    def sticker(self, user: str, *keywords: str, package_id: str = "446", sticker_id: str = "1988") -> Answer:
        return self.send(user, {"sticker": {"packageId": package_id, "stickerId": sticker_id,
                                            "keywords": list(keywords)}})

    def location(self, user: str, address: str | None, *, title: str = "ตำแหน่งของฉัน",
                 latitude: float = 13.7563, longitude: float = 100.5018) -> Answer:
        location = {"title": title, "latitude": latitude, "longitude": longitude}
        if address:
            location["address"] = address
        return self.send(user, {"location": location})

    # -- groups: members write in a group chat the bot is in

    def group(self, name: str, members: list[str], *, joined: bool = True) -> dict:
        response = self.http.post("/groups", json={"name": name, "members": members, "joined": joined})
        if response.status_code >= 400:
            raise SimulatorError(response.status_code, response.json())
        return response.json()

    def group_send(self, group: str, sender: str, body: dict) -> Answer:
        return self._post(f"/groups/{group}/messages", {"from": sender, **body})

    def group_say(self, group: str, sender: str, text: str) -> Answer:
        return self.group_send(group, sender, {"text": text})

    def group_event(self, group: str, kind: str, body: dict | None = None) -> Answer:
        """kind: "join", "leave" or "members" (body {"join": [...]} or {"leave": [...]})."""
        return self._post(f"/groups/{group}/{kind}", body or {})

    def rich_menu(self) -> dict | None:
        """The default rich menu the chat shows (areas and their actions), or None."""
        return self.http.get("/richmenu").json()["richmenu"]

    def pay(self, user: str, mode: str = "normal", amount: str | None = None) -> Answer:
        """Pay the bot's last PromptPay QR in this chat; `raw["transfer"]` is the bank's record."""
        return self._post(f"/chats/{user}/pay", {"mode": mode, "amount": amount})

    def transcript(self, user: str) -> list[dict]:
        return self.http.get(f"/chats/{user}/transcript").json()["entries"]

    def reset(self) -> None:
        self.http.post("/reset").raise_for_status()
