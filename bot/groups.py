"""Group and room chats: the shop answers questions about its games there, and nothing personal.

Everyone in a group reads what the bot writes, so a cart, an order, a delivery detail or a payment QR
never goes there, whoever asks. Three guards, each enough on its own:
1. what the member asked is sorted first: catalogue questions are answered, anything personal gets an
   invitation to a one-to-one chat, chatter between members gets no answer at all;
2. the agent answering runs with catalogue tools only (no customer bound: `ToolContext(customer_id=None)`);
3. the outgoing messages are filtered: text and product cards pass; images, carts, order summaries and
   receipts do not, nor quick replies that lead to personal data.
The bot joins with a short hello, greets new members, and says nothing when it or a member leaves.
"""
from __future__ import annotations

import logging

from agent import actions
from agent.mcp_client import ToolSession
from agent.offline import phrases
from agent.offline.dialogue import OfflineAgent
from agent.offline.nlu import Intent, understand
from agent.reply import TurnReply
from agent.tools import ToolContext
from bot.compose import compose
from shop.db import Database
from shop.settings import Settings

log = logging.getLogger(__name__)

JOINED = ("สวัสดีค่ะ ขอบคุณที่ชวน{shop}เข้ากลุ่มนะคะ 🎲\n"
          "ถามเรื่องบอร์ดเกม ราคา หรือให้ช่วยแนะนำเกมในกลุ่มนี้ได้เลยค่ะ "
          "ส่วนการสั่งซื้อและชำระเงิน ทางร้านขอคุยในแชทส่วนตัวนะคะ")
MEMBERS_JOINED = ("ยินดีต้อนรับสมาชิกใหม่ค่ะ 😊 อยากรู้จักเกมไหน ถาม{shop}ในกลุ่มนี้ได้เลยนะคะ "
                  "ถ้าจะสั่งซื้อ ทักแชทส่วนตัวกับทางร้านได้ค่ะ")
INVITATION = ("เรื่องตะกร้า คำสั่งซื้อ การจัดส่ง และการชำระเงินเป็นข้อมูลส่วนตัว "
              "ทางร้านขอคุยต่อในแชทส่วนตัวนะคะ 🙏 แตะที่ชื่อร้านแล้วเลือก \"แชท\" "
              "(หรือเพิ่มเพื่อนก่อน) แล้วพิมพ์มาได้เลยค่ะ")

CATALOGUE_INTENTS = {Intent.PRODUCT_QUESTION, Intent.PRICE, Intent.AVAILABILITY, Intent.RECOMMENDATION}
PERSONAL_INTENTS = {Intent.ADD_TO_CART, Intent.CHANGE_CART, Intent.REMOVE_FROM_CART, Intent.VIEW_CART,
                    Intent.CHECKOUT, Intent.SHIPPING_DETAILS, Intent.PAYMENT_QUESTION, Intent.ORDER_STATUS,
                    Intent.CANCEL, Intent.TALK_TO_STAFF}
CATALOGUE_ACTIONS = {"details", "recommend", "browse", "menu"}   # buttons whose answer is catalogue only
MENTION_SELF = "isSelf"


def _mentions_bot(message: dict) -> bool:
    mentionees = (message.get("mention") or {}).get("mentionees") or []
    return any(isinstance(m, dict) and m.get(MENTION_SELF) for m in mentionees)


def _safe_action(action: dict) -> bool:
    if action.get("type") == "postback":
        decoded = actions.decode(action.get("data", ""))
        return decoded is not None and decoded.action in CATALOGUE_ACTIONS
    return action.get("type") == "message"


def _private(message: dict) -> bool:
    """A message that could carry personal data: images (QR codes), and Flex other than product cards."""
    if message.get("type") == "text":
        return False
    if message.get("type") != "flex":
        return True
    contents = message.get("contents") or {}
    bubbles = contents.get("contents") if contents.get("type") == "carousel" else [contents]

    def has_details(node) -> bool:
        if isinstance(node, dict):
            action = node.get("action")
            if isinstance(action, dict) and action.get("type") == "postback":
                decoded = actions.decode(action.get("data", ""))
                if decoded is not None and decoded.action == "details":
                    return True
            return any(has_details(value) for value in node.values())
        if isinstance(node, list):
            return any(has_details(value) for value in node)
        return False

    return not bubbles or not all(has_details(bubble) for bubble in bubbles)


def group_safe(messages: list[dict], settings: Settings) -> list[dict]:
    """Guard 3: only what anyone in the group may read. Quick replies keep catalogue steps only."""
    kept = []
    for message in messages:
        if _private(message):
            log.error("group answer: a %s message was withheld (personal data never goes to a group)",
                      message.get("type"))
            continue
        message = dict(message)
        quick = message.get("quickReply")
        if quick:
            items = [item for item in quick.get("items", []) if _safe_action(item.get("action") or {})]
            if items:
                message["quickReply"] = {"items": items}
            else:
                message.pop("quickReply")
        kept.append(message)
    return kept


class GroupTurn:
    """One event from a group or room. No customer is bound: nothing personal can be reached."""

    def __init__(self, db: Database, settings: Settings, hero=None):
        self.db, self.settings, self.hero = db, settings, hero

    def answer(self, event: dict) -> list[dict]:
        kind = event.get("type")
        message = event.get("message") or {}
        if kind == "join":
            return self._send(TurnReply(JOINED.format(shop=self.settings.shop_name), suggestions=phrases.MAIN_MENU[:3]))
        if kind == "memberJoined":
            return self._send(TurnReply(MEMBERS_JOINED.format(shop=self.settings.shop_name)))
        if kind == "postback":
            return self._postback((event.get("postback") or {}).get("data", ""))
        if kind == "message" and message.get("type") == "text":
            return self._text(message.get("text", ""), addressed=_mentions_bot(message))
        return []   # leave, memberLeft, stickers, photos, locations between members: not for the shop

    def _send(self, reply: TurnReply) -> list[dict]:
        return group_safe(compose(reply, hero=self.hero), self.settings)

    def _agent(self, tools) -> OfflineAgent:
        return OfflineAgent(tools, shop_name=self.settings.shop_name,
                            order_expiry_minutes=self.settings.order_expiry_minutes,
                            delivery_fee_satang=self.settings.delivery_fee_satang)

    def _text(self, text: str, *, addressed: bool) -> list[dict]:
        intent = understand(text).intent
        if intent in PERSONAL_INTENTS:
            return self._send(TurnReply(INVITATION))
        if intent not in CATALOGUE_INTENTS and not addressed:
            return []   # members talking among themselves
        with ToolSession(ToolContext(self.db, self.settings, None)) as tools:
            reply = self._agent(tools).respond({}, text=text)
        return self._send(reply)

    def _postback(self, data: str) -> list[dict]:
        action = actions.decode(data)
        if action is None or action.action not in CATALOGUE_ACTIONS:
            return self._send(TurnReply(INVITATION))
        with ToolSession(ToolContext(self.db, self.settings, None)) as tools:
            reply = self._agent(tools).respond({}, action=action)
        return self._send(reply)


def run_group_turn(db: Database, settings: Settings, event: dict, hero=None) -> list[dict]:
    return GroupTurn(db, settings, hero).answer(event)
