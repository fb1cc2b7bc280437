"""What the shop says, in one voice: a polite shop assistant ("ค่ะ"/"คะ", refers to itself as ทางร้าน).

Every customer-facing sentence of the offline agent lives here, so the persona stays consistent and
a native speaker can review all of it in one file.
"""
from __future__ import annotations

from agent.reply import Suggestion
from shop.money import baht_words, format_baht

GREETING = ("สวัสดีค่ะ{name} ยินดีต้อนรับสู่{shop} 🎲\n"
            "ถามเรื่องบอร์ดเกมได้เลยนะคะ เช่น ชื่อเกม ราคา หรือบอกว่าจะเล่นกี่คน "
            "ทางร้านช่วยแนะนำให้ค่ะ")
THANKS = "ขอบคุณมากค่ะ ถ้าต้องการอะไรเพิ่มเติม ทักมาได้ตลอดเลยนะคะ 😊"
NOT_UNDERSTOOD = ("ขออภัยค่ะ ทางร้านยังไม่เข้าใจข้อความนี้ "
                  "ลองพิมพ์ชื่อเกม หรือบอกว่าอยากได้เกมแบบไหน เช่น \"เกมปาร์ตี้ 6 คน งบ 1,000\" ได้เลยค่ะ")
ASK_WHICH_PRODUCT = "ต้องการเกมไหนคะ พิมพ์ชื่อเกมมาได้เลยค่ะ"
RECOMMEND_INTRO = "ทางร้านขอแนะนำเกมเหล่านี้ค่ะ{criteria}"
RECOMMEND_NONE = "ขออภัยค่ะ ตอนนี้ทางร้านไม่มีเกมที่ตรงกับเงื่อนไขนี้ ลองปรับจำนวนคน เวลา หรืองบประมาณดูนะคะ"
ADDED = "ใส่ {name} จำนวน {quantity} ชิ้นลงตะกร้าแล้วค่ะ\nยอดรวมในตะกร้าตอนนี้ {total}"
UPDATED = "แก้จำนวน {name} เป็น {quantity} ชิ้นแล้วค่ะ\nยอดรวมในตะกร้าตอนนี้ {total}"
REMOVED = "นำ {name} ออกจากตะกร้าแล้วค่ะ"
NOT_IN_CART = "สินค้าที่แจ้งมายังไม่ได้อยู่ในตะกร้าค่ะ"
CART_EMPTY = "ตะกร้ายังว่างอยู่ค่ะ ลองดูเกมที่ทางร้านแนะนำไหมคะ"
CART_SHOWN = "ในตะกร้ามีสินค้า {count} รายการ ยอดรวม {total}ค่ะ"
ASK_QUANTITY = "ต้องการ {name} กี่ชิ้นคะ"
ASK_FULFILMENT = "ต้องการรับสินค้าเองที่ร้าน หรือให้ทางร้านจัดส่งคะ"
ASK_NAME = "ขอชื่อผู้รับสินค้าด้วยค่ะ"
ASK_PHONE = "ขอเบอร์มือถือผู้รับด้วยค่ะ (เช่น 081-234-5678)"
BAD_PHONE = "เบอร์นี้ไม่ใช่เบอร์มือถือที่ถูกต้องค่ะ รบกวนพิมพ์เบอร์ 10 หลัก เช่น 081-234-5678 นะคะ"
ASK_ADDRESS = "ขอที่อยู่สำหรับจัดส่ง (บ้านเลขที่ ถนน แขวง/ตำบล เขต/อำเภอ จังหวัด รหัสไปรษณีย์) ด้วยค่ะ"
SUMMARY = "รบกวนตรวจสอบรายการก่อนยืนยันนะคะ ยอดชำระทั้งหมด {total}"
ORDER_CREATED = ("สร้างคำสั่งซื้อเลขที่ {number} เรียบร้อยค่ะ\n"
                 "ยอดชำระ {total} ({words})\n"
                 "สแกน QR พร้อมเพย์ด้านล่างเพื่อชำระเงิน แล้วส่งรูปสลิปมาในแชทนี้ได้เลยค่ะ "
                 "กรุณาชำระภายใน {minutes} นาทีนะคะ")
ORDER_NOT_CONFIRMED = "ยังไม่ได้สร้างคำสั่งซื้อค่ะ ต้องการแก้ไขอะไร บอกทางร้านได้เลยนะคะ"
PAY_AGAIN = "คำสั่งซื้อ {number} ยอดชำระ {total} ค่ะ สแกน QR ด้านล่าง แล้วส่งรูปสลิปมาได้เลยนะคะ"
DELIVERY_INFO = ("ทางร้านมีบริการจัดส่งค่ะ ค่าจัดส่ง {fee} ต่อคำสั่งซื้อ หรือจะรับสินค้าเองที่ร้านก็ได้นะคะ "
                 "เลือกได้ตอนสั่งซื้อเลยค่ะ")
PAY_HOW = ("ทางร้านรับชำระผ่าน QR พร้อมเพย์ค่ะ เมื่อยืนยันคำสั่งซื้อ ทางร้านจะส่ง QR ยอดที่ต้องชำระให้ "
           "สแกนจ่ายแล้วส่งรูปสลิปมาในแชทนี้ ระบบจะตรวจสอบให้ทันทีค่ะ")
NO_OPEN_ORDER = "ตอนนี้ยังไม่มีคำสั่งซื้อที่รอชำระค่ะ"
NO_ORDERS = "ยังไม่มีคำสั่งซื้อในระบบค่ะ"
CONFIRM_CANCEL = "ต้องการยกเลิกคำสั่งซื้อ {number} ยอด {total} ใช่ไหมคะ"
CANCELLED = "ยกเลิกคำสั่งซื้อ {number} เรียบร้อยแล้วค่ะ"
ORDER_EXPIRED = ("คำสั่งซื้อ {number} ยอด {total} หมดเวลาชำระเงินแล้วค่ะ ทางร้านจึงยกเลิกรายการนี้ให้ "
                 "หากยังต้องการสินค้า สั่งซื้อใหม่ได้เลยนะคะ ถ้าโอนเงินไปแล้ว รบกวนส่งสลิปมาให้ทางร้านตรวจสอบค่ะ")
KEEP_ORDER = "ได้เลยค่ะ คำสั่งซื้อ {number} ยังอยู่เหมือนเดิมนะคะ"
HANDOFF = "ทางร้านแจ้งแอดมินให้แล้วค่ะ จะรีบติดต่อกลับในแชทนี้โดยเร็วที่สุดนะคะ"
PRICE_CHANGE_REFUSED = ("ขออภัยค่ะ ราคาสินค้าเป็นราคาที่ทางร้านกำหนดไว้ ไม่สามารถเปลี่ยนผ่านแชทได้ "
                        "ถ้าต้องการสอบถามโปรโมชัน ทางร้านแจ้งแอดมินให้ได้นะคะ")
OTHERS_PRIVATE = ("ขออภัยค่ะ ข้อมูลคำสั่งซื้อของลูกค้าแต่ละท่านเป็นความลับ "
                  "ทางร้านแสดงได้เฉพาะคำสั่งซื้อของคุณลูกค้าเองนะคะ")
NOT_A_NAME = "ขออภัยค่ะ ทางร้านยังไม่ได้รับชื่อผู้รับสินค้า รบกวนพิมพ์ชื่อและนามสกุลผู้รับมาอีกครั้งนะคะ"
TOOL_ERROR = "{message}"  # the tools' own Thai sentences are already polite and complete
SYSTEM_BUSY = "ขออภัยค่ะ ระบบขัดข้องชั่วคราว รบกวนลองใหม่อีกครั้งนะคะ"
IMAGE_NOT_SLIP = ("ได้รับรูปแล้วค่ะ แต่ทางร้านยังดูรูปสินค้าเองไม่ได้ "
                  "รบกวนพิมพ์ชื่อเกมที่ต้องการมาได้เลยนะคะ")
IMAGE_IS_PAYMENT_QR = ("รูปนี้เป็น QR สำหรับชำระเงินค่ะ ไม่ใช่สลิป "
                       "สแกน QR นี้ในแอปธนาคารเพื่อโอนเงิน แล้วส่งรูปสลิปหลังโอนมาได้เลยนะคะ")


def greeting(shop: str, customer_name: str = "") -> str:
    """The welcome, by name when LINE told us the customer's display name ("สวัสดีค่ะ คุณมานี")."""
    return GREETING.format(shop=shop, name=f" คุณ{customer_name}" if customer_name else "")


def order_status(order: dict) -> str:
    status = order.get("status_th") or order.get("status", "")
    text = (f"คำสั่งซื้อ {order['number']} ยอด {format_baht(order['total_satang'])}\n"
            f"สถานะ: {status}")
    if order.get("tracking_number"):
        text += f"\nขนส่ง: {order.get('carrier', '')} เลขพัสดุ {order['tracking_number']}"
    return text


def display_name(product: dict) -> str:
    """Thai title with the English one after it, or whichever exists."""
    th, en = (product.get("name_th") or "").strip(), (product.get("name_en") or "").strip()
    return th or en


def facts_line(product: dict) -> str:
    parts = []
    lo, hi = product.get("min_players"), product.get("max_players")
    if lo and hi:
        parts.append(f"{lo} คน" if lo == hi else f"{lo}-{hi} คน")
    m_lo, m_hi = product.get("min_minutes"), product.get("max_minutes")
    if m_lo or m_hi:
        lo_m, hi_m = m_lo or m_hi, m_hi or m_lo
        parts.append(f"{lo_m} นาที" if lo_m == hi_m else f"{lo_m}-{hi_m} นาที")
    if product.get("min_age"):
        parts.append(f"อายุ {product['min_age']}+")
    return " · ".join(parts)


def product_facts(product: dict) -> str:
    """One short paragraph about a product, from the database's facts only."""
    lines = [f"{display_name(product)}"]
    if product.get("name_th") and product.get("name_en"):
        lines[0] += f" ({product['name_en']})"
    price = f"ราคา {format_baht(product['price_satang'])}"
    if product.get("list_price_satang", 0) > product["price_satang"]:
        price += f" (จากปกติ {format_baht(product['list_price_satang'])})"
    lines.append(price)
    facts = facts_line(product)
    if facts:
        lines.append(facts)
    stock = int(product.get("stock") or 0)
    lines.append("มีสินค้าพร้อมส่งค่ะ" if stock > 2 else
                 f"เหลือ {stock} ชิ้นสุดท้ายค่ะ" if stock > 0 else "ตอนนี้สินค้าหมดชั่วคราวค่ะ")
    return "\n".join(lines)


def order_created(number: str, total_satang: int, minutes: int) -> str:
    return ORDER_CREATED.format(number=number, total=format_baht(total_satang),
                                words=baht_words(total_satang), minutes=minutes)


# Quick replies used in several places.
MAIN_MENU = [
    Suggestion.do("แนะนำเกม", "recommend", display="ช่วยแนะนำเกมหน่อย"),
    Suggestion.say("เกมปาร์ตี้", "แนะนำเกมปาร์ตี้เล่นกันหลายคน"),
    Suggestion.say("เกมเล่น 2 คน", "แนะนำเกมเล่น 2 คน"),
    Suggestion.do("ดูตะกร้า", "cart", display="ดูตะกร้าสินค้า"),
    Suggestion.do("สถานะคำสั่งซื้อ", "status", display="เช็กสถานะคำสั่งซื้อ"),
    Suggestion.do("คุยกับแอดมิน", "staff", display="ขอคุยกับแอดมิน"),
]
AFTER_ADD = [
    Suggestion.do("ชำระเงิน", "checkout", display="สั่งซื้อสินค้าในตะกร้า"),
    Suggestion.do("ดูตะกร้า", "cart", display="ดูตะกร้าสินค้า"),
    Suggestion.do("เลือกดูเกมเพิ่ม", "browse", display="ขอดูเกมเพิ่มเติม"),
]
FULFILMENT = [
    Suggestion.do("รับเองที่ร้าน", "pickup", display="รับสินค้าเองที่ร้าน"),
    Suggestion.do("จัดส่ง", "delivery", display="ให้จัดส่งสินค้า"),
]
YES_NO = [Suggestion.say("ใช่ค่ะ", "ใช่"), Suggestion.say("ไม่ใช่", "ไม่ใช่")]

# ---- several acts in one reply, and the answers the act reader made possible
HELLO_SHORT = "สวัสดีค่ะ 😊"
THANKS_SHORT = "ยินดีค่ะ 😊"
NO_PROBLEM = "ได้เลยค่ะ ถ้าต้องการอะไรเพิ่มเติม บอกทางร้านได้เลยนะคะ"
ADDED_LINE = "ใส่ {name} จำนวน {quantity} ชิ้นลงตะกร้าแล้วค่ะ"
CART_TOTAL = "ยอดรวมในตะกร้าตอนนี้ {total}"
ALREADY_IN_CART = "{name} อยู่ในตะกร้าแล้ว {quantity} ชิ้นค่ะ"
MAX_QUANTITY = 99
QUANTITY_NOT_POSITIVE = ("จำนวน {quantity} ใส่ตะกร้าไม่ได้ค่ะ จำนวนต้องเป็น 1 ชิ้นขึ้นไป "
                         "ทางร้านจึงยังไม่ได้เปลี่ยนตะกร้านะคะ ต้องการ {name} กี่ชิ้นคะ")
QUANTITY_TOO_MANY = ("ทางร้านรับได้สูงสุด {most} ชิ้นต่อรายการค่ะ จึงยังไม่ได้ใส่ {name} จำนวน {quantity} ชิ้นลงตะกร้า "
                     "ต้องการกี่ชิ้นคะ ถ้าต้องการสั่งจำนวนมาก ทางร้านแจ้งแอดมินให้ติดต่อกลับได้นะคะ")
DELIVERY_TOTAL = "ตอนนี้ในตะกร้ายอด {subtotal} ถ้าให้จัดส่ง ยอดรวมค่าส่งจะเป็น {total} ค่ะ"
SEND_THE_SLIP = ("ขอบคุณค่ะ ทางร้านยังไม่ได้รับสลิปของคำสั่งซื้อ {number} ยอด {total} "
                 "รบกวนส่งรูปสลิปการโอนมาในแชทนี้ ระบบจะตรวจสอบให้ทันทีนะคะ")
PAID_NO_OPEN_ORDER = ("ตอนนี้ยังไม่มีคำสั่งซื้อที่รอชำระค่ะ ถ้าโอนเงินไปแล้ว รบกวนส่งรูปสลิปมาในแชทนี้ "
                      "ทางร้านจะตรวจสอบให้นะคะ")
STAFF_CLAIM_REFUSED = ("ขออภัยค่ะ แชทนี้ยืนยันตัวตนพนักงานไม่ได้ ทางร้านจึงแสดงข้อมูลลูกค้าหรือคำสั่งซื้อของผู้อื่น "
                       "และเปลี่ยนการตั้งค่าร้านผ่านแชทไม่ได้ค่ะ พนักงานใช้ระบบหลังร้านได้โดยตรงนะคะ")
INJECTION_REFUSED = ("ส่วนหมายเหตุหรือคำสั่งพิเศษที่แนบมาในข้อความ ทางร้านทำตามไม่ได้ค่ะ "
                     "ราคาและคำสั่งซื้อเป็นไปตามระบบของร้านเท่านั้นนะคะ")
RECOMMEND_RELAXED = ("ตอนนี้ทางร้านยังไม่มีเกมที่ตรงทุกเงื่อนไขค่ะ จึงตัดเงื่อนไข{dropped}ออก "
                     "แล้วขอแนะนำเกมเหล่านี้แทนนะคะ{criteria}")
EDITION_TH = {"TH": "ภาษาไทย", "EN": "ภาษาอังกฤษ", "TH/EN": "ภาษาไทยและอังกฤษ", "TH/JP": "ภาษาไทยและญี่ปุ่น",
              "JP": "ภาษาญี่ปุ่น", "CN": "ภาษาจีน"}


def criteria(e, skip: tuple[str, ...] | list[str] = ()) -> str:
    """' (แนวปาร์ตี้ เล่น 4 คน ...)' from the recommendation's constraints, leaving out the relaxed ones."""
    parts = []
    if e.category and "category" not in skip:
        parts.append(f"แนว{e.category}")
    if e.players and "players" not in skip:
        parts.append("เล่นคนเดียวได้" if e.players == 1 else f"เล่น {e.players} คน")
    if e.max_minutes and "minutes" not in skip:
        parts.append(f"ไม่เกิน {e.max_minutes} นาที")
    if e.age and "age" not in skip:
        parts.append(f"เด็ก {e.age} ขวบเล่นได้")
    if e.budget_max_satang and "budget" not in skip:
        parts.append(f"งบไม่เกิน {format_baht(e.budget_max_satang)}")
    if e.budget_min_satang and "budget" not in skip:
        parts.append(f"ราคาตั้งแต่ {format_baht(e.budget_min_satang)}")
    return (" (" + " ".join(parts) + ")") if parts else ""


def relaxed_names(e, relaxed: list[str]) -> str:
    """The conditions the recommendation had to drop, in words: ' แนวปาร์ตี้ และเวลาเล่น'."""
    names = {"category": f"แนว{e.category}" if e.category else "แนวเกม",
             "minutes": f"เวลาเล่นไม่เกิน {e.max_minutes} นาที" if e.max_minutes else "เวลาเล่น",
             "age": f"อายุ {e.age} ขวบ" if e.age else "อายุ",
             "budget": "งบประมาณ", "players": f"จำนวนผู้เล่น {e.players} คน" if e.players else "จำนวนผู้เล่น"}
    return " " + " และ".join(names[r] for r in relaxed if r in names) + " "


def answer_about(kind: str, product: dict, asked=None) -> str:
    """The one fact asked about, as a sentence, before the product's facts ("" for a general question).
    `asked`: the question's entities; a condition in it ("เด็ก 10 ขวบเล่นได้ไหม") is answered yes or no."""
    name = display_name(product)
    fit = _fits(name, product, asked) if asked is not None else ""
    if fit:
        return fit
    if kind == "ask_players":
        lo, hi = product.get("min_players"), product.get("max_players")
        if lo and hi:
            return f"{name} เล่นได้ {lo} คนค่ะ" if lo == hi else f"{name} เล่นได้ {lo}-{hi} คนค่ะ"
        return f"ทางร้านยังไม่มีข้อมูลจำนวนผู้เล่นของ {name} ค่ะ"
    if kind == "ask_time":
        lo, hi = product.get("min_minutes"), product.get("max_minutes")
        if lo or hi:
            lo, hi = lo or hi, hi or lo
            span = f"{lo} นาที" if lo == hi else f"{lo}-{hi} นาที"
            return f"{name} ใช้เวลาเล่นประมาณ {span}ค่ะ"
        return f"ทางร้านยังไม่มีข้อมูลเวลาเล่นของ {name} ค่ะ"
    if kind == "ask_edition":
        edition = (product.get("edition_lang") or "").upper()
        if edition in EDITION_TH:
            return f"{name} ที่ทางร้านขายเป็นฉบับ{EDITION_TH[edition]}ค่ะ"
        return f"ทางร้านยังไม่มีข้อมูลภาษาของ {name} ค่ะ รบกวนสอบถามแอดมินได้นะคะ"
    if kind == "ask_price":
        return f"{name} ราคา {format_baht(product['price_satang'])}ค่ะ"
    return ""
OTHER_EDITIONS = "ตอนนี้มี {names} พร้อมส่งค่ะ ถ้าสนใจ เลือกจากการ์ดด้านล่าง หรือพิมพ์ชื่อมาได้เลยนะคะ"
CART_CLEARED = "นำสินค้าทั้งหมดออกจากตะกร้าแล้วค่ะ ตะกร้าว่างแล้ว เลือกเกมใหม่ได้เลยนะคะ"


def same_title(a: dict, b: dict) -> bool:
    """Two editions of one game (a year, a language, a dented box), not a game and its expansion."""
    import re

    def core(product: dict) -> str:
        name = (product.get("name_en") or "").lower()
        name = re.sub(r"\b(?:19|20)\d\d\b|\bedition\b|\(.*?\)|[^a-z0-9 ]", " ", name)
        return " ".join(name.split())

    return bool(core(a)) and core(a) == core(b)


def _fits(name: str, product: dict, asked) -> str:
    """Whether a named game suits the age, group size or time the customer gave."""
    age, players, minutes = asked.age, asked.players, asked.max_minutes
    if age and product.get("min_age"):
        if age >= product["min_age"]:
            return f"{name} เหมาะกับอายุ {product['min_age']} ปีขึ้นไป เด็ก {age} ขวบเล่นได้ค่ะ"
        return (f"{name} เหมาะกับอายุ {product['min_age']} ปีขึ้นไปค่ะ สำหรับเด็ก {age} ขวบอาจยากไปหน่อย "
                "ถ้าต้องการ ทางร้านช่วยแนะนำเกมที่เหมาะกับวัยนี้ได้นะคะ")
    lo, hi = product.get("min_players"), product.get("max_players")
    if players and lo and hi:
        if lo <= players <= hi:
            return f"{name} เล่น {players} คนได้ค่ะ (เล่นได้ {lo}-{hi} คน)"
        return f"{name} เล่นได้ {lo}-{hi} คนค่ะ จึงไม่เหมาะกับ {players} คนนะคะ"
    longest = product.get("max_minutes") or product.get("min_minutes")
    if minutes and longest:
        if longest <= minutes:
            return f"{name} เล่นจบภายในประมาณ {longest} นาทีค่ะ"
        return f"{name} ใช้เวลาเล่นประมาณ {longest} นาที นานกว่า {minutes} นาทีค่ะ"
    return ""
