"""Replay journeys (simulator/journey_file.py) through the simulator's JSON API and check each step.

    runner = JourneyRunner(httpx.Client(base_url="http://127.0.0.1:8000"))
    report = runner.run(load_journeys("tests/data/journeys"), repeat=4)
    print(report.text())

`http` is anything with httpx's `get`/`post` (an httpx.Client with a base URL, or a Flask test client
of an app serving the simulator). Every run of a journey is a new simulator chat, so runs share no
cart, order or dialogue state; when the service shows its shop (`GET /sim/api/shop`), stock is put
back to what it was when the runner started before each run, plus the journey's own "stock".
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from urllib.parse import urlencode

from simulator.journey_checks import Catalogue, Check, Context, Seen, normal
from simulator.journey_customer import Move, answer, question_in, start_checkout
from simulator.journey_file import Journey, JourneyFileError, Step
from simulator.journey_report import JourneyRun, Report, StepFailure

MAX_AUTO_TURNS = 10


class StepError(Exception):
    """The step could not be carried out (the bot did not answer, no such button, nothing to pay)."""


class ServiceError(Exception):
    """The service cannot be used for journeys at all (unreachable, no simulator mounted)."""


class SimulatorApi:
    """The few calls of the simulator's JSON API a journey needs, over httpx or a Flask test client."""

    def __init__(self, http, *, timeout: float = 30.0, settle: float = 0.3):
        self.http, self.timeout, self.settle = http, timeout, settle
        self.silence_ok = False   # set for a step that expects {"answered": false}: silence is an answer
        self.quiet_wait = min(timeout, 3.0)

    def _call(self, method: str, path: str, body: dict | None = None, wait: float | None = None) -> tuple[int, dict]:
        query = f"?{urlencode({'timeout': wait, 'settle': self.settle})}" if wait else ""
        try:
            response = getattr(self.http, method)(f"/sim/api{path}{query}", **({"json": body} if body is not None else {}))
        except Exception as error:  # noqa: BLE001 - httpx and test clients raise different things
            raise ServiceError(f"cannot reach the simulator: {type(error).__name__}: {error}") from None
        payload = response.json() if callable(getattr(response, "json", None)) else response.json
        return response.status_code, payload if isinstance(payload, dict) else {}

    def _answer(self, path: str, body: dict) -> dict:
        status, data = self._call("post", path, body, wait=self.quiet_wait if self.silence_ok else self.timeout)
        if status == 504 and self.silence_ok:
            return {"messages": [], "errors": []}
        if status >= 400:
            raise StepError(data.get("message") or f"HTTP {status}")
        return data

    def new_chat(self, display_name: str) -> str:
        status, data = self._call("post", "/chats", {"display_name": display_name[:40]})
        if status == 404:
            raise ServiceError("no simulator at this address (is it running under `salesbot dev`?)")
        if status >= 400:
            raise ServiceError(f"cannot add a simulator chat: HTTP {status} {data.get('message', '')}")
        return data["user_id"]

    def say(self, user: str, text: str) -> dict:
        return self._answer(f"/chats/{user}/messages", {"text": text})

    def postback(self, user: str, data: str, display_text: str | None) -> dict:
        return self._answer(f"/chats/{user}/messages", {"postback": {"data": data, "displayText": display_text}})

    def follow(self, user: str) -> dict:
        return self._answer(f"/chats/{user}/messages", {"follow": True})

    def pay(self, user: str, mode: str, amount: str | None) -> dict:
        return self._answer(f"/chats/{user}/pay", {"mode": mode, "amount": amount})

    def shop(self) -> dict | None:
        status, data = self._call("get", "/shop")
        return data if status == 200 else None

    def chat_shop(self, user: str) -> dict:
        status, data = self._call("get", f"/chats/{user}/shop")
        if status != 200:
            raise StepError(f"cannot read this chat's cart and orders: HTTP {status} {data.get('message', '')}")
        return data

    def set_stock(self, stock: dict) -> None:
        status, data = self._call("post", "/shop/stock", {"stock": stock})
        if status != 200:
            raise ServiceError(f"cannot set stock: HTTP {status} {data.get('message', '')}")


SHOP_CHECKS = {"cart", "order", "cart_total", "total_with_delivery", "order_number"}


def _needs_shop(expect: dict) -> bool:
    return bool(SHOP_CHECKS & set(expect)) or any(_needs_shop(option) for option in expect.get("any", []))


@dataclass
class _Chat:
    """One run of one journey: the chat, what was last shown, and the transcript so far."""
    user: str
    profile: dict
    seen: Seen = field(default_factory=Seen)
    cards: list[str | None] = field(default_factory=list)
    transcript: list[str] = field(default_factory=list)


class JourneyRunner:
    def __init__(self, http, *, timeout: float = 30.0, settle: float = 0.3, restore_stock: bool = True):
        self.api = SimulatorApi(http, timeout=timeout, settle=settle)
        self.restore_stock = restore_stock
        self.catalogue: Catalogue | None = None
        self.shelf: dict[str, int] = {}

    def prepare(self, journeys: list[Journey]) -> None:
        """Read the shop once; a journey naming a product the shop does not have is a file error."""
        overview = self.api.shop()
        if overview is None:
            self.catalogue = Catalogue({}, None)
            return
        self.catalogue = Catalogue.from_overview(overview)
        self.shelf = {sku: p["stock"] for sku, p in self.catalogue.products.items()}
        for journey in journeys:
            for step, sku in journey.skus():
                if sku not in self.catalogue.products:
                    where = step.describe() if step else "stock"
                    raise JourneyFileError(f"{journey.source}: journey {journey.name!r} {where}: "
                                           f"no product with SKU {sku!r} in this shop")

    def run(self, journeys: list[Journey], repeat: int = 1, progress=None) -> Report:
        """Run every journey `repeat` times (all journeys once, then again), calling `progress(run)`."""
        if self.catalogue is None:
            self.prepare(journeys)
        started = time.monotonic()
        runs: list[JourneyRun] = []
        for number in range(1, repeat + 1):
            for journey in journeys:
                run = self.run_one(journey, number)
                runs.append(run)
                if progress is not None:
                    progress(run)
        return Report(runs=runs, repeat=repeat, seconds=time.monotonic() - started,
                      shop_visible=bool(self.catalogue and self.catalogue.products))

    def run_one(self, journey: Journey, number: int = 1) -> JourneyRun:
        started = time.monotonic()
        if self.shelf and self.restore_stock:
            self.api.set_stock({**self.shelf, **journey.stock})
        elif journey.stock:
            self.api.set_stock(journey.stock)
        chat = _Chat(user=self.api.new_chat(journey.profile.get("name") or journey.name), profile=journey.profile)
        failures: list[StepFailure] = []
        for step in journey.steps:
            before = list(chat.cards)
            self.api.silence_ok = step.expect.get("answered") is False
            try:
                self._perform(chat, step)
            except StepError as error:
                failures.append(StepFailure(step, [f"the {step.action} step failed: {error}"]))
                chat.transcript.append(f"  ✗ step {step.index}: {error}")
                break
            problems = self._check(chat, step, before)
            if problems:
                failures.append(StepFailure(step, problems))
                chat.transcript += [f"  ✗ step {step.index}: {problem}" for problem in problems]
        return JourneyRun(journey=journey, number=number, failures=failures, transcript=chat.transcript,
                          seconds=time.monotonic() - started)

    # ---- steps

    def _perform(self, chat: _Chat, step: Step) -> None:
        if step.action == "say":
            self._say(chat, step.value)
        elif step.action == "tap":
            self._tap(chat, step.value, step.options.get("card"))
        elif step.action == "pay":
            amount = step.options.get("amount")
            chat.transcript.append(f"customer: [pays the QR through the bank: {step.value}"
                                   + (f", {amount} baht" if amount else "") + "]")
            self._show(chat, self.api.pay(chat.user, step.value, amount))
        elif step.action == "follow":
            chat.transcript.append("customer: [adds the shop as a friend]")
            self._show(chat, self.api.follow(chat.user))
        elif step.value == "checkout":
            self._auto_checkout(chat, step)
        else:
            self._auto_answer(chat, step)

    def _say(self, chat: _Chat, text: str) -> None:
        chat.transcript.append("customer: " + text.replace("\n", "\n          "))
        self._show(chat, self.api.say(chat.user, text))

    def _tap(self, chat: _Chat, label: str, card_sku: str | None = None) -> None:
        actions = chat.seen.actions()
        if card_sku:
            actions = [a for card in chat.seen.cards if card.sku == card_sku for a in card.actions]
        matching = [a for a in actions if normal(label) in normal(a.get("label", ""))]
        exact = [a for a in matching if normal(a.get("label", "")) == normal(label)]
        if not matching:
            offered = " | ".join(a.get("label", "?") for a in actions) or "nothing"
            raise StepError(f"no button or quick reply labelled {label!r} (offered: {offered})")
        self._press(chat, (exact or matching)[0])

    def _press(self, chat: _Chat, action: dict) -> None:
        label = action.get("label", "?")
        if action.get("type") == "postback":
            chat.transcript.append(f"customer: [taps {label}]")
            self._show(chat, self.api.postback(chat.user, action["data"], action.get("displayText")))
        elif action.get("type") == "message":
            chat.transcript.append(f"customer: [taps {label}] {action.get('text', '')}")
            self._show(chat, self.api.say(chat.user, action.get("text") or label))
        else:
            raise StepError(f"the button {label!r} opens a {action.get('type')} action, not a chat message")

    def _do(self, chat: _Chat, move: Move) -> None:
        if move.kind == "tap":
            self._press(chat, move.action)
        else:
            self._say(chat, move.text)

    def _auto_checkout(self, chat: _Chat, step: Step) -> None:
        """Check out and answer every question until the QR (or the summary, with until="summary")."""
        profile = {**chat.profile, **step.options.get("profile", {})}
        if "fulfilment" in step.options:
            profile["fulfilment"] = step.options["fulfilment"]
        until = step.options.get("until", "qr")
        goal = "confirm" if until == "summary" else "qr"
        started, last = False, None
        for _ in range(MAX_AUTO_TURNS):
            question = question_in(chat.seen)
            if started and question in (goal, "qr"):
                return
            if question in (None, "qr"):
                if started:
                    raise StepError("the checkout stopped: the bot asked nothing the customer could answer")
                move, started = start_checkout(chat.seen, profile), True
            else:
                move = answer(chat.seen, profile)
                if move.kind == "stuck":
                    raise StepError(move.why)
                if move.question == last and move.question != "confirm":
                    raise StepError(f"the bot asked for the {move.question} again after the customer answered")
                started, last = True, move.question
            self._do(chat, move)
        raise StepError(f"the checkout did not reach the {until} in {MAX_AUTO_TURNS} turns")

    def _auto_answer(self, chat: _Chat, step: Step) -> None:
        profile = {**chat.profile, **step.options.get("profile", {})}
        move = answer(chat.seen, profile)
        if move.kind == "stuck":
            raise StepError(move.why)
        if move.kind == "done":
            chat.transcript.append(f"customer: (nothing to answer: {move.why})")
            return
        self._do(chat, move)

    def _show(self, chat: _Chat, data: dict) -> None:
        chat.seen = Seen.read(data.get("messages", []), self.catalogue or Catalogue({}), data.get("errors"))
        chat.transcript += chat.seen.summary()
        if chat.seen.product_cards:
            chat.cards = [card.sku for card in chat.seen.product_cards]

    # ---- checks

    def _check(self, chat: _Chat, step: Step, cards_before: list[str | None]) -> list[str]:
        problems = [f"LINE refused the bot's {e.get('api')}: {e.get('status')} {e.get('error')}"
                    for e in chat.seen.errors]
        if step.action != "auto" and not chat.seen.messages and step.expect.get("answered", True):
            problems.append("the bot sent nothing")
        if not step.expect:
            return problems
        shop = {"cart": {"items": []}, "orders": []}
        if _needs_shop(step.expect):
            if not (self.catalogue and self.catalogue.products):
                return [*problems, "cart and order checks need a service that shows its shop to the simulator "
                                   "(`salesbot dev`, or no --url)"]
            shop = self.api.chat_shop(chat.user)
        context = Context(seen=chat.seen, catalogue=self.catalogue or Catalogue({}), shop=shop,
                          last_cards=cards_before)
        return [*problems, *Check(context).run(step.expect)]
