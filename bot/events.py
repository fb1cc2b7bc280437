"""Answers to the LINE message kinds that are not text or photos, and to the bot's own postbacks.

    sticker            → an answer in kind from the sticker's keywords; right after a yes/no question an
                         OK-like sticker is a yes (as if the customer tapped "ใช่"), a no-like one a no
    location           → during a delivery checkout: the address is proposed as the delivery address and
                         kept once the customer confirms; otherwise thanks and an offer of help
    audio, video, file → a polite answer suggesting to type, or to send a photo (slips as pictures)
    rm=..., loc=...    → rich-menu tiles (search, promotions) and the address proposal's buttons
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from agent.offline import phrases
from agent.offline.nlu import Intent, understand
from agent.reply import TurnReply
from bot import richmenu, stickers
from bot.replies import flex

if TYPE_CHECKING:
    from bot.turn import Turn

YES_NO_QUESTIONS = ("confirm_order", "confirm_cancel")
CHECKOUT_QUESTIONS = ("shipping_name", "shipping_phone", "shipping_address", "confirm_order")
USE_ADDRESS, TYPE_ADDRESS = "loc=use", "loc=type"
PROPOSED = "proposed_address"

LOCATION_PROPOSED = "ได้รับตำแหน่งแล้วค่ะ 📍 ใช้ที่อยู่นี้สำหรับจัดส่งไหมคะ\n{address}"
LOCATION_WITHOUT_ADDRESS = ("ได้รับตำแหน่งแล้วค่ะ 📍 แต่ตำแหน่งนี้ไม่มีที่อยู่แนบมา "
                            "รบกวนพิมพ์ที่อยู่สำหรับจัดส่ง (บ้านเลขที่ ถนน แขวง/ตำบล เขต/อำเภอ จังหวัด รหัสไปรษณีย์) ด้วยนะคะ")
LOCATION_THANKS = ("ขอบคุณที่ส่งตำแหน่งมานะคะ 📍 ถ้าต้องการให้จัดส่งสินค้า เลือกเกมใส่ตะกร้าแล้วกดชำระเงิน "
                   "ทางร้านจะถามที่อยู่ตอนนั้นค่ะ มีอะไรให้ช่วยไหมคะ")
ADDRESS_NOT_USED = "ได้เลยค่ะ รบกวนพิมพ์ที่อยู่สำหรับจัดส่งมาได้เลยนะคะ"
MEDIA_ANSWERS = {
    "audio": "ขออภัยค่ะ ทางร้านยังฟังข้อความเสียงไม่ได้ รบกวนพิมพ์ข้อความมาแทนนะคะ "
             "ถ้าเป็นเรื่องเกมที่ต้องการ จะส่งรูปกล่องเกมมาก็ได้ค่ะ",
    "video": "ขออภัยค่ะ ทางร้านยังเปิดดูวิดีโอไม่ได้ รบกวนพิมพ์ข้อความ หรือส่งเป็นรูปภาพมาแทนนะคะ",
    "file": "ขออภัยค่ะ ทางร้านยังเปิดไฟล์ไม่ได้ รบกวนพิมพ์ข้อความมาแทนนะคะ "
            "ถ้าเป็นสลิปโอนเงิน ส่งเป็นรูปภาพ (ภาพหน้าจอสลิป) มาได้เลยค่ะ",
}
SEARCH_PROMPT = "พิมพ์ชื่อเกมที่อยากหามาได้เลยค่ะ ภาษาไทยหรืออังกฤษก็ได้ หรือบอกว่าจะเล่นกี่คนก็ได้นะคะ 🔍"
PROMOTIONS = "เกมราคาพิเศษตอนนี้ค่ะ 🎉"
NO_PROMOTIONS = "ตอนนี้ยังไม่มีเกมลดราคาค่ะ ลองให้ทางร้านแนะนำเกมที่เหมาะกับคุณไหมคะ"


# ---- stickers -------------------------------------------------------------------------------------

def answer_sticker(turn: Turn, message: dict) -> list[dict]:
    if message.get("text"):   # a message sticker: the customer typed words on it
        return turn.answer_text(message["text"])
    meaning = stickers.meaning(message.get("keywords"))
    if PROPOSED in turn.state and meaning in ("ok", "no"):   # the last question was "use this address?"
        return _settle_proposal(turn, meaning == "ok")
    if turn.state.get("expecting") in YES_NO_QUESTIONS and meaning in ("ok", "no"):
        yes, no = phrases.YES_NO
        return turn.answer_text((yes if meaning == "ok" else no).text)   # as if that chip was tapped
    return turn.send(TurnReply(stickers.reply_text(meaning, turn.customer_name), suggestions=phrases.MAIN_MENU))


# ---- locations ------------------------------------------------------------------------------------

def _in_delivery_checkout(state: dict) -> bool:
    return state.get("fulfilment") == "delivery" and state.get("expecting") in CHECKOUT_QUESTIONS


def answer_location(turn: Turn, message: dict) -> list[dict]:
    if not _in_delivery_checkout(turn.state):
        return turn.send(TurnReply(LOCATION_THANKS, suggestions=phrases.MAIN_MENU))
    address = " ".join((message.get("address") or "").split())
    if len(address) < 8:
        turn.state["expecting"] = "shipping_address"
        return turn.send(TurnReply(LOCATION_WITHOUT_ADDRESS))
    turn.state[PROPOSED] = address[:300]
    messages = turn.send(TurnReply(LOCATION_PROPOSED.format(address=address)))
    return _with_chips(messages, [("ใช้ที่อยู่นี้", USE_ADDRESS, "ใช้ที่อยู่นี้จัดส่ง"),
                                  ("พิมพ์ที่อยู่เอง", TYPE_ADDRESS, "ขอพิมพ์ที่อยู่เอง")])


def _with_chips(messages: list[dict], chips: list[tuple[str, str, str]]) -> list[dict]:
    """Quick replies carrying the bot's own postbacks (label, data, what the chat shows)."""
    items = [{"type": "action", "action": {"type": "postback", "label": label, "data": data, "displayText": shown}}
             for label, data, shown in chips]
    return [*messages[:-1], {**messages[-1], "quickReply": {"items": items}}]


def _settle_proposal(turn: Turn, accepted: bool) -> list[dict]:
    address = turn.state.pop(PROPOSED, None)
    if not accepted or not address:
        turn.state["expecting"] = "shipping_address"
        return turn.send(TurnReply(ADDRESS_NOT_USED))
    turn.state["expecting"] = "shipping_address"   # the address is the answer to the address question
    return turn.send(turn.offline.respond(turn.state, text=address))


def answer_pending_proposal(turn: Turn, text: str) -> list[dict] | None:
    """A typed yes/no to the proposed address; any other text drops the proposal (None: answer it)."""
    if PROPOSED not in turn.state:
        return None
    intent = understand(text, expecting="confirm_order").intent
    if intent in (Intent.CONFIRM, Intent.DENY):
        return _settle_proposal(turn, intent == Intent.CONFIRM)
    turn.state.pop(PROPOSED)
    return None


# ---- audio, video, files --------------------------------------------------------------------------

def answer_media(turn: Turn, message: dict) -> list[dict]:
    return turn.send(TurnReply(MEDIA_ANSWERS[message["type"]], suggestions=phrases.MAIN_MENU))


# ---- the bot's own postbacks ----------------------------------------------------------------------

def answer_bot_postback(turn: Turn, data: str) -> list[dict] | None:
    """Postbacks of the rich menu and of the address proposal; None for the shop's action postbacks."""
    if data == USE_ADDRESS:
        return _settle_proposal(turn, True)
    if data == TYPE_ADDRESS:
        return _settle_proposal(turn, False)
    if data == richmenu.SEARCH_DATA:
        turn.state.pop("expecting", None)
        return turn.send(TurnReply(SEARCH_PROMPT, suggestions=phrases.MAIN_MENU[:3]))
    if data == richmenu.PROMOTIONS_DATA:
        return _promotions(turn)
    return None


def _promotions(turn: Turn) -> list[dict]:
    from agent.tools import product_json
    from shop.promotions import on_sale

    with turn.db.session() as session:
        products = [product_json(product) for product in on_sale(session, limit=10)]
    if not products:
        return turn.send(TurnReply(NO_PROMOTIONS, suggestions=phrases.MAIN_MENU))
    turn.state["last_skus"] = [p["sku"] for p in products]   # so "อันแรก" means the first card
    return turn.send(TurnReply(PROMOTIONS, suggestions=phrases.MAIN_MENU),
                     extra=[flex.product_carousel(products, hero=turn.hero)])
