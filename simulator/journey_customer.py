"""The rule-based customer of a journey: answers what the bot asks from the journey's profile.

It reads the bot's last answer the way a customer skims it: a confirm button on a summary, then the
question in the text (address, phone, name, pickup or delivery, which one, yes or no). It taps a
fitting button when the profile prefers buttons (most LINE customers do) and types otherwise. It knows
no wording of this bot in particular, only the words any Thai shop uses for these questions.
"""
from __future__ import annotations

from dataclasses import dataclass

from simulator.journey_checks import Seen, normal

CHECKOUT_LABELS = ("ชำระเงิน", "สั่งซื้อเลย", "สั่งซื้อสินค้า", "ไปที่การชำระ", "checkout")
CONFIRM_LABELS = ("ยืนยันคำสั่งซื้อ", "ยืนยัน", "confirm")
FULFILMENT_LABELS = {"pickup": ("รับเอง", "รับที่ร้าน", "pickup"), "delivery": ("จัดส่ง", "ส่งสินค้า", "delivery")}
FULFILMENT_WORDS = {"pickup": "รับเองที่ร้านค่ะ", "delivery": "ให้จัดส่งค่ะ"}
YES_LABELS, NO_LABELS = ("ใช่", "yes", "ตกลง"), ("ไม่ใช่", "no", "ไม่")

# question -> words that ask it, checked in this order (an address question also says "จัดส่ง")
QUESTIONS = (
    ("address", ("ที่อยู่", "address")),
    ("phone", ("เบอร์", "โทรศัพท์", "phone")),
    ("name", ("ชื่อผู้รับ", "ชื่อ-นามสกุล", "ชื่อและนามสกุล", "ชื่อนามสกุล", "ขอชื่อ", "ชื่อลูกค้า", "ชื่อจริง",
              "your name")),
    ("fulfilment", ("รับเอง", "รับที่ร้าน", "รับสินค้าเอง", "จัดส่ง", "pickup", "delivery")),
    ("choice", ("แบบไหน", "อันไหน", "ตัวไหน", "เกมไหน", "รุ่นไหน", "หมายถึง", "which")),
    ("yes_no", ("ใช่ไหม", "ใช่หรือไม่", "หรือไม่คะ", "หรือเปล่าคะ", "ใช่มั้ย")),
)


@dataclass
class Move:
    """What the customer does next: say `text`, tap `action`, or nothing (`done` / `stuck` with why)."""
    kind: str                  # "say" | "tap" | "done" | "stuck"
    text: str = ""
    action: dict | None = None
    question: str = ""
    why: str = ""


def question_in(seen: Seen) -> str | None:
    """What the bot asks in this answer: "qr" (nothing to ask, it is time to pay), "confirm", a detail..."""
    if seen.images:
        return "qr"
    if _find(seen.actions(), CONFIRM_LABELS):
        return "confirm"
    text = normal("\n".join(seen.texts))
    for question, words in QUESTIONS:
        if any(normal(word) in text for word in words):
            return question
    if _find(seen.chips, YES_LABELS) and _find(seen.chips, NO_LABELS):
        return "yes_no"
    return None


def answer(seen: Seen, profile: dict) -> Move:
    """The customer's answer to the question in `seen`, from the profile."""
    question = question_in(seen)
    buttons = profile.get("prefer_buttons", True)
    actions = seen.actions()
    if question is None:
        return Move("done", why="the bot asked nothing")
    if question == "qr":
        return Move("done", question=question, why="a payment QR was sent")
    if question == "confirm":
        action = _find(actions, CONFIRM_LABELS) if buttons else None
        return Move("tap", action=action, question=question) if action else Move("say", "ยืนยันค่ะ", question=question)
    if question == "fulfilment":
        how = profile.get("fulfilment", "delivery")
        action = _find(actions, FULFILMENT_LABELS[how]) if buttons else None
        return Move("tap", action=action, question=question) if action else \
            Move("say", FULFILMENT_WORDS[how], question=question)
    if question in ("name", "phone", "address"):
        value = profile.get(question)
        if not value:
            return Move("stuck", question=question, why=f"the bot asks for the {question}; the profile has none")
        return Move("say", value, question=question)
    if question == "choice":
        choice = profile.get("choose")
        if not choice:
            return Move("stuck", question=question, why="the bot asks which one; the profile has no \"choose\"")
        return Move("say", choice, question=question)
    yes = profile.get("yes", True)
    action = _find(seen.chips, YES_LABELS if yes else NO_LABELS) if buttons else None
    return Move("tap", action=action, question=question) if action else \
        Move("say", "ใช่ค่ะ" if yes else "ไม่ใช่ค่ะ", question=question)


def start_checkout(seen: Seen, profile: dict) -> Move:
    """Ask to check out: tap the shop's checkout button when there is one, else say so."""
    action = _find(seen.actions(), CHECKOUT_LABELS) if profile.get("prefer_buttons", True) else None
    return Move("tap", action=action, question="checkout") if action else \
        Move("say", "สั่งซื้อเลยค่ะ", question="checkout")


def _find(actions: list[dict], labels: tuple[str, ...]) -> dict | None:
    """The first tappable action whose label holds one of `labels` (earlier labels win)."""
    refusing = labels is not NO_LABELS  # "ใช่" is inside "ไม่ใช่": a yes, confirm or checkout is never a "ไม่…"
    for label in labels:
        for action in actions:
            shown = normal(action.get("label", ""))
            if action.get("type") in ("postback", "message") and normal(label) in shown \
                    and not (refusing and shown.startswith("ไม่")):
                return action
    return None
