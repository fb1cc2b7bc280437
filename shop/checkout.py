"""Checkout details: pickup or delivery, the delivery contact (name, Thai phone, address), and the
summary the customer confirms before an order is created."""
from __future__ import annotations

import re
from typing import Literal

from sqlalchemy.orm import Session

from shop import phones
from shop.cart import cart_lines, get_cart, lines_subtotal
from shop.errors import ShopError
from shop.models.customers import Customer
from shop.money import format_baht
from shop.phones import Phone
from shop.settings import Settings
from shop.text import thai_digits_to_arabic

Fulfilment = Literal["pickup", "delivery"]

_POSTCODE = re.compile(r"(?<!\d)[1-9]\d{4}(?!\d)")
MAX_NAME, MAX_ADDRESS = 100, 500


def parse_phone(text: str) -> Phone:
    """The delivery contact's Thai phone number (mobile or landline; see `shop.phones`)."""
    phone = phones.parse_phone(text)
    if phone is None:
        raise ShopError("invalid_phone",
                        "เบอร์โทรศัพท์ไม่ถูกต้องค่ะ รบกวนพิมพ์เบอร์มือถือ 10 หลัก เช่น 081-234-5678 นะคะ",
                        field="phone")
    return phone


def clean_name(text: str) -> str:
    name = " ".join((text or "").split())
    if len(name) < 2:
        raise ShopError("invalid_name", "รบกวนแจ้งชื่อผู้รับสินค้าด้วยค่ะ", field="name")
    if len(name) > MAX_NAME:
        raise ShopError("invalid_name", f"ชื่อผู้รับยาวเกินไปค่ะ รบกวนพิมพ์ไม่เกิน {MAX_NAME} ตัวอักษรนะคะ", field="name")
    return name


def clean_address(text: str) -> str:
    address = "\n".join(" ".join(line.split()) for line in (text or "").splitlines() if line.strip())
    if len(address) < 10:
        raise ShopError("invalid_address",
                        "รบกวนแจ้งที่อยู่จัดส่งแบบเต็ม มีบ้านเลขที่ ถนน แขวง/ตำบล เขต/อำเภอ จังหวัด "
                        "และรหัสไปรษณีย์ด้วยค่ะ", field="address")
    if len(address) > MAX_ADDRESS:
        raise ShopError("invalid_address", f"ที่อยู่ยาวเกินไปค่ะ รบกวนพิมพ์ไม่เกิน {MAX_ADDRESS} ตัวอักษรนะคะ", field="address")
    if not _POSTCODE.search(thai_digits_to_arabic(address)):
        raise ShopError("address_missing_postcode", "รบกวนเพิ่มรหัสไปรษณีย์ 5 หลักในที่อยู่ด้วยค่ะ",
                        field="address")
    return address


def set_shipping(session: Session, customer: Customer, fulfilment: str, *, name: str | None = None,
                 phone: str | None = None, address: str | None = None) -> list[str]:
    """Record pickup or delivery and the delivery contact; returns notes for the customer.

    Details may come over several turns: each given field is validated and saved on the customer
    (reused at the next checkout); `checkout_summary` lists what is still missing.
    """
    if fulfilment not in ("pickup", "delivery"):
        raise ShopError("invalid_fulfilment", "รบกวนเลือกรับสินค้าที่ร้าน หรือให้จัดส่งค่ะ",
                        field="fulfilment")
    notes: list[str] = []
    # Validate everything before saving anything: bad input loses nothing.
    clean = {}
    if name is not None and name.strip():
        clean["ship_name"] = clean_name(name)
    if phone is not None and phone.strip():
        parsed = parse_phone(phone)
        clean["ship_phone"] = parsed.digits
        if parsed.kind == "landline":
            notes.append(f"เบอร์ {parsed.display} เป็นเบอร์โทรศัพท์บ้านค่ะ ถ้ามีเบอร์มือถือ "
                         "รบกวนแจ้งเพิ่มเพื่อให้ขนส่งติดต่อได้สะดวกนะคะ")
    if address is not None and address.strip():
        clean["ship_address"] = clean_address(address)
    for field, value in clean.items():
        setattr(customer, field, value)
    cart = get_cart(session, customer.id, create=True)
    cart.fulfilment = fulfilment
    return notes


def missing_details(customer: Customer, fulfilment: str) -> list[str]:
    if fulfilment == "pickup":
        return []
    if fulfilment != "delivery":
        return ["fulfilment"]
    return [field for field, value in (("name", customer.ship_name), ("phone", customer.ship_phone),
                                       ("address", customer.ship_address)) if not value]


_MISSING_TH = {"fulfilment": "ว่าจะรับสินค้าที่ร้านหรือให้จัดส่ง", "name": "ชื่อผู้รับ", "phone": "เบอร์โทรศัพท์",
               "address": "ที่อยู่จัดส่ง"}


def checkout_summary(session: Session, settings: Settings, customer: Customer) -> dict:
    """What the customer confirms: lines, subtotal, delivery fee, total, and what is still missing."""
    cart = get_cart(session, customer.id)
    lines = cart_lines(cart)
    fulfilment = cart.fulfilment if cart else ""
    subtotal = lines_subtotal(lines)
    shipping = settings.delivery_fee_satang if fulfilment == "delivery" else 0
    missing = missing_details(customer, fulfilment)
    if not lines:
        missing = ["items", *missing]
    summary = {
        "items": [line.to_json() for line in lines],
        "subtotal_satang": subtotal, "subtotal_text": format_baht(subtotal),
        "shipping_satang": shipping, "shipping_text": format_baht(shipping),
        "total_satang": subtotal + shipping, "total_text": format_baht(subtotal + shipping),
        "fulfilment": fulfilment,
        "ship_name": customer.ship_name if fulfilment == "delivery" else "",
        "ship_phone": customer.ship_phone if fulfilment == "delivery" else "",
        "ship_address": customer.ship_address if fulfilment == "delivery" else "",
        "missing": missing,
        "ready_to_confirm": not missing,
    }
    if "items" in missing:
        summary["message_th"] = "ตะกร้ายังว่างอยู่ค่ะ เลือกสินค้าก่อนสั่งซื้อได้เลยค่ะ"
    elif missing:
        wanted = [_MISSING_TH[m] for m in missing]
        listed = wanted[0] if len(wanted) == 1 else " ".join(wanted[:-1]) + " และ" + wanted[-1]
        summary["message_th"] = f"รบกวนแจ้ง{listed}ด้วยค่ะ"
    else:
        summary["message_th"] = (f"ยอดชำระทั้งหมด {format_baht(subtotal + shipping)}ค่ะ "
                                 "รบกวนตรวจสอบรายการ แล้วกดยืนยันคำสั่งซื้อได้เลยค่ะ")
    return summary
