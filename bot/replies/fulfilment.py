"""What a customer is told when staff act on their order or slip (back office or CLI). Handed to
shop.fulfilment and payments.review as their `CustomerMessages`: the domain decides, this wording
and these cards are the application's."""
from __future__ import annotations

from agent.offline import phrases
from bot.replies import flex
from bot.replies.messages import text, with_quick_replies
from payments.checks import MESSAGES_TH
from shop.money import format_baht

ASK_STAFF = "หากโอนไปแล้ว พิมพ์แจ้งทางร้านได้เลย พนักงานจะช่วยดูให้ค่ะ"
SLIP_REJECTED = "ทางร้านตรวจสอบสลิป{of_order}แล้ว แต่ยังยืนยันการชำระเงินไม่ได้ค่ะ\nเหตุผล: {reason}"
PAY_AGAIN = ("รบกวนชำระยอด {total} ผ่าน QR พร้อมเพย์ของคำสั่งซื้อ แล้วส่งสลิปจากแอปธนาคารมาอีกครั้ง"
             "ภายใน {pay_before} นะคะ " + ASK_STAFF)
READY_FOR_PICKUP = ("สินค้าของคำสั่งซื้อ {number} พร้อมให้มารับที่ร้านแล้วค่ะ "
                    "แจ้งเลขที่คำสั่งซื้อกับพนักงานหน้าร้านได้เลยนะคะ")
SHIPPED = "ทางร้านจัดส่งคำสั่งซื้อ {number} แล้วค่ะ ติดตามพัสดุได้ด้วยเลขพัสดุด้านล่างนะคะ"
DELIVERED = "คำสั่งซื้อ {number} ส่งถึงแล้วค่ะ ขอบคุณที่อุดหนุนทางร้านนะคะ หากสินค้ามีปัญหา ทักมาได้เลยค่ะ 😊"
PICKED_UP = "ขอบคุณที่มารับสินค้าของคำสั่งซื้อ {number} นะคะ ขอให้สนุกกับเกมค่ะ 🎲"
CANCELLED = "ทางร้านยกเลิกคำสั่งซื้อ {number} แล้วค่ะ\nเหตุผล: {reason}"
REFUND = "ทางร้านจะติดต่อคุณลูกค้าเรื่องการคืนเงิน {total} โดยเร็วที่สุดค่ะ"
SORRY = "ขออภัยในความไม่สะดวกค่ะ"


def customer_messages(event: str, order: dict, *, reason: str = "") -> list[dict]:
    """LINE messages for `event` (see shop.fulfilment.CustomerMessages); [] when there is nothing to say."""
    number, total = order.get("number", ""), format_baht(order.get("total_satang") or 0)
    if event == "payment_approved":
        messages = [text(MESSAGES_TH["paid"].format(amount=total, order=number)), flex.receipt(order)]
    elif event == "slip_rejected":
        said = SLIP_REJECTED.format(of_order=f"ของคำสั่งซื้อ {number} " if number else "", reason=reason)
        next_step = (PAY_AGAIN.format(total=total, pay_before=order["pay_before_text"])
                     if order.get("pay_before_text") else ASK_STAFF)
        messages = [text(f"{said}\n{next_step}")]
    elif event == "packed":
        if order.get("fulfilment") != "pickup":
            return []  # a delivery order hears from the shop when it ships
        messages = [text(READY_FOR_PICKUP.format(number=number))]
    elif event == "shipped":
        messages = [text(SHIPPED.format(number=number)), flex.shipment(order)]
    elif event == "delivered":
        messages = [text(DELIVERED.format(number=number))]
    elif event == "picked_up":
        messages = [text(PICKED_UP.format(number=number))]
    elif event == "cancelled":
        lines = [CANCELLED.format(number=number, reason=reason)]
        if order.get("paid_at"):
            lines.append(REFUND.format(total=total))
        lines.append(SORRY)
        messages = [text("\n".join(lines))]
    else:
        raise ValueError(f"no customer message for {event!r}")
    return with_quick_replies(messages, phrases.MAIN_MENU)
