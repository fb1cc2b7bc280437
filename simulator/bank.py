"""The simulated bank: read the shop's PromptPay QR, record transfers, draw slips, answer verification.

Slip mini-QR payloads follow the Slip Verify spec (reference/payments.md §3):
``00{00:"000001", 01:<sending bank>, 02:<transRef>} 51"TH" 91<CRC>``. Only the EMV TLV/CRC codec is
shared with `payments` (`payments.emv`); everything else the bot knows about slips it must learn
over HTTP, from the verification API below, like from a real provider.
"""
from __future__ import annotations

import io
import re
import secrets
import threading
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from pathlib import Path

from payments.emv import EmvError, decode_map, encode, verify_crc, with_crc

BANGKOK = timezone(timedelta(hours=7))
SENDING_BANK = "004"      # the customer's bank in the simulation (KBank's code)
RECEIVING_BANK = "014"    # the shop's bank (SCB's code)
BANK_NAME = "SIM Bank · ธนาคารจำลอง"
FAILURE_MODES = ("normal", "wrong_amount", "unknown_ref", "provider_down", "reuse")
THAI_MONTHS = ["ม.ค.", "ก.พ.", "มี.ค.", "เม.ย.", "พ.ค.", "มิ.ย.", "ก.ค.", "ส.ค.", "ก.ย.", "ต.ค.", "พ.ย.", "ธ.ค."]
FONT_DIR = Path("/usr/share/fonts/truetype/tlwg")


class BankError(Exception):
    """A payment the simulated bank cannot make (no QR, nothing to reuse, bad amount)."""


# ---------------------------------------------------------------- PromptPay QR (what the shop sent)

@dataclass(frozen=True)
class PromptPayQR:
    payload: str
    target: str            # as a person types it: 0812345678, a 13-digit ID or a 15-digit e-wallet
    amount_satang: int | None


def parse_promptpay(payload: str) -> PromptPayQR:
    """Parse a PromptPay credit-transfer payload (tag 29). Raises ValueError when it is not one."""
    try:
        verify_crc(payload, "63")
        root = decode_map(payload)
        account = decode_map(root.get("29", ""))
    except EmvError as error:
        raise ValueError(f"not a PromptPay QR: {error}") from None
    if root.get("00") != "01" or not account.get("00", "").startswith("A000000677"):
        raise ValueError("not a PromptPay credit-transfer QR (tag 29 AID missing)")
    if "01" in account:                      # 0066 + 9 digits -> 0 + 9 digits
        target = "0" + account["01"][-9:]
    else:
        target = account.get("02") or account.get("03") or ""
    amount = None
    if "54" in root:
        try:
            amount = int(Decimal(root["54"]) * 100)
        except InvalidOperation:
            raise ValueError(f"tag 54 amount {root['54']!r} is not a number") from None
    return PromptPayQR(payload=payload, target=target, amount_satang=amount)


def read_qr_codes(image_bytes: bytes) -> list[str]:
    """All QR code texts zxing-cpp finds in an image."""
    import zxingcpp
    from PIL import Image

    with Image.open(io.BytesIO(image_bytes)) as image:
        results = zxingcpp.read_barcodes(image.convert("L"), formats=zxingcpp.BarcodeFormat.QRCode)
    return [result.text for result in results if result.text]


def find_promptpay(image_bytes: bytes) -> PromptPayQR | None:
    for text in read_qr_codes(image_bytes):
        try:
            return parse_promptpay(text)
        except ValueError:
            continue
    return None


# ---------------------------------------------------------------- slip mini-QR payload

def slip_payload(sending_bank: str, trans_ref: str) -> str:
    inner = encode([("00", "000001"), ("01", sending_bank), ("02", trans_ref)])
    return with_crc(encode([("00", inner), ("51", "TH")]), "91")


def parse_slip_payload(payload: str) -> tuple[str, str]:
    """(sending bank, transRef) of a slip-verify payload; ValueError when it is not a valid one."""
    try:
        payload = verify_crc(payload, "91", pad_short_crc=True)
        root = decode_map(payload)
        inner = decode_map(root.get("00", ""))
    except EmvError as error:
        raise ValueError(str(error)) from None
    if inner.get("00") != "000001" or not inner.get("01") or not inner.get("02"):
        raise ValueError("not a slip-verify payload (tag 00.00 must be 000001, with bank and transRef)")
    return inner["01"], inner["02"]


def new_trans_ref(when: datetime) -> str:
    """KBank-style reference: 3-digit day of year, time, 'APM' and a serial (about 20 characters)."""
    return f"{when.strftime('%j%H%M%S')}{secrets.randbelow(10**4):04d}APM{secrets.randbelow(10**5):05d}"


def mask_account(target: str) -> str:
    """Mask all but the last 4 digits, as banks print receivers: 0812345678 -> xxx-xxx-5678."""
    digits = re.sub(r"\D", "", target)
    if len(digits) == 10:
        return f"xxx-xxx-{digits[-4:]}"
    return "x" * (len(digits) - 4) + digits[-4:]


def mask_name(name: str) -> str:
    """Banks show a first name and the initial of the surname: 'สมชาย ใจดี' -> 'สมชาย จ.'."""
    parts = name.split()
    if len(parts) >= 2:
        initial = parts[-1].lstrip("เแโใไ")[:1] or parts[-1][0]  # skip leading vowels: ใจดี -> จ
        return f"{' '.join(parts[:-1])} {initial}."
    return name


def format_amount(satang: int) -> str:
    baht, rest = divmod(satang, 100)
    return f"{baht:,}.{rest:02d}"


def thai_datetime(when: datetime) -> str:
    """'26 พ.ย. 69 14:03 น.': day, Thai month, Buddhist year (2 digits), as bank apps print it."""
    return f"{when.day} {THAI_MONTHS[when.month - 1]} {(when.year + 543) % 100:02d} {when:%H:%M} น."


# ---------------------------------------------------------------- transfers and verification

@dataclass
class Transfer:
    trans_ref: str
    amount_satang: int
    qr_amount_satang: int | None
    target: str
    sender_name: str
    receiver_name: str
    when: datetime
    mode: str = "normal"
    user_id: str = ""
    slip_message_ids: list[str] = field(default_factory=list)
    recorded: bool = True          # False for "unknown reference": the bank has no such transfer
    provider_down: bool = False

    @property
    def payload(self) -> str:
        return slip_payload(SENDING_BANK, self.trans_ref)

    def as_json(self) -> dict:
        data = asdict(self)
        data["when"] = self.when.isoformat()
        data["amount"] = format_amount(self.amount_satang)
        data["payload"] = self.payload
        return data

    def provider_record(self) -> dict:
        """The verification API's `data` for this transfer."""
        account = mask_account(self.target)
        return {
            "transRef": self.trans_ref,
            "sendingBank": SENDING_BANK,
            "receivingBank": RECEIVING_BANK,
            "amount": f"{self.amount_satang // 100}.{self.amount_satang % 100:02d}",
            "transDate": self.when.replace(microsecond=0).isoformat(),
            "sender": {"name": self.sender_name},
            "receiver": {"name": self.receiver_name, "account": account, "promptpayId": account},
        }


def paid_amount(mode: str, qr_amount: int | None, chosen: int | None) -> int:
    """The amount actually transferred. 'wrong amount' differs from the QR even if none was chosen."""
    amount = chosen if chosen is not None else qr_amount
    if amount is None:
        raise BankError("the QR has no amount: choose the amount to pay")
    if amount <= 0:
        raise BankError("the amount must be more than 0 baht")
    if mode == "wrong_amount" and amount == qr_amount:
        amount = amount - 10_000 if amount > 20_000 else amount // 2
    return amount


class Bank:
    """Transfers by reference, thread-safe. The verify API reads them like a real provider would."""

    def __init__(self, shop_name: str):
        self.shop_name = shop_name
        self._lock = threading.Lock()
        self._transfers: dict[str, Transfer] = {}
        self._order: list[str] = []

    def reset(self) -> None:
        with self._lock:
            self._transfers.clear()
            self._order.clear()

    def transfer(self, *, user_id: str, sender_name: str, qr: PromptPayQR, mode: str,
                 amount_satang: int | None = None) -> Transfer:
        """Make the transfer a payment in `mode` produces (for 'reuse': the user's previous one)."""
        if mode not in FAILURE_MODES:
            raise BankError(f"unknown mode {mode!r}; choose one of {', '.join(FAILURE_MODES)}")
        if mode == "reuse":
            previous = self.last_for(user_id)
            if previous is None:
                raise BankError("no earlier slip of this customer to send again")
            return previous
        when = datetime.now(BANGKOK)
        transfer = Transfer(
            trans_ref=new_trans_ref(when), amount_satang=paid_amount(mode, qr.amount_satang, amount_satang),
            qr_amount_satang=qr.amount_satang, target=qr.target, sender_name=sender_name,
            receiver_name=self.shop_name, when=when, mode=mode, user_id=user_id,
            recorded=mode != "unknown_ref", provider_down=mode == "provider_down")
        with self._lock:
            self._transfers[transfer.trans_ref] = transfer
            self._order.append(transfer.trans_ref)
        return transfer

    def last_for(self, user_id: str) -> Transfer | None:
        with self._lock:
            for ref in reversed(self._order):
                if self._transfers[ref].user_id == user_id:
                    return self._transfers[ref]
        return None

    def get(self, trans_ref: str) -> Transfer | None:
        with self._lock:
            return self._transfers.get(trans_ref)

    def set_provider_down(self, trans_ref: str, down: bool) -> Transfer:
        with self._lock:
            transfer = self._transfers.get(trans_ref)
            if transfer is None:
                raise BankError(f"no transfer {trans_ref}")
            transfer.provider_down = down
            return transfer

    def all(self) -> list[Transfer]:
        with self._lock:
            return [self._transfers[ref] for ref in self._order]

    def verify(self, qr_payload) -> tuple[int, dict]:
        """The verification provider's answer (status, body) for a slip mini-QR payload."""
        if not isinstance(qr_payload, str) or not qr_payload:
            return 400, {"success": False, "code": "invalid_payload", "message": "qr_payload is required"}
        try:
            _, trans_ref = parse_slip_payload(qr_payload)
        except ValueError as error:
            return 400, {"success": False, "code": "invalid_payload", "message": f"not a slip QR: {error}"}
        transfer = self.get(trans_ref)
        if transfer is not None and transfer.provider_down:
            return 503, {"success": False, "code": "bank_down",
                         "message": "the bank's slip service is not answering; try again later"}
        if transfer is None or not transfer.recorded:
            return 404, {"success": False, "code": "not_found",
                         "message": f"no transfer with reference {trans_ref}"}
        return 200, {"success": True, "data": transfer.provider_record()}


# ---------------------------------------------------------------- slip image

def _font(size: int, bold: bool = False):
    from PIL import ImageFont

    name = "Loma-Bold.ttf" if bold else "Loma.ttf"
    try:
        return ImageFont.truetype(str(FONT_DIR / name), size)
    except OSError:  # no Thai font installed: still draw, the QR is what the bot reads
        return ImageFont.load_default(size)


def render_slip(transfer: Transfer) -> bytes:
    """A bank-app-like slip (PNG): bank, 'โอนเงินสำเร็จ', amount, Thai date, names, a mini QR."""
    import qrcode
    from PIL import Image, ImageDraw

    width, height = 720, 1080
    green, ink, grey = (0, 150, 80), (33, 33, 33), (120, 120, 120)
    image = Image.new("RGB", (width, height), (246, 248, 247))
    draw = ImageDraw.Draw(image)
    draw.rectangle([0, 0, width, 150], fill=green)
    draw.text((40, 38), BANK_NAME, font=_font(40, bold=True), fill="white")
    draw.text((40, 96), "สลิปจำลองเพื่อการทดสอบ ไม่ใช่หลักฐานการโอนจริง", font=_font(22), fill=(220, 245, 230))

    card = [30, 180, width - 30, height - 40]
    draw.rounded_rectangle(card, radius=24, fill="white", outline=(225, 230, 228), width=2)
    draw.ellipse([60, 215, 120, 275], fill=green)
    draw.line([(76, 246), (87, 258), (106, 232)], fill="white", width=7)
    draw.text((140, 214), "โอนเงินสำเร็จ", font=_font(40, bold=True), fill=green)
    draw.text((140, 268), thai_datetime(transfer.when), font=_font(26), fill=grey)

    y = 330
    for label, name, account in (
        ("จาก", mask_name(transfer.sender_name), "xxx-x-x4821-x  " + SENDING_BANK),
        ("ไปยัง", transfer.receiver_name, mask_account(transfer.target) + "  พร้อมเพย์"),
    ):
        draw.text((60, y), label, font=_font(26), fill=grey)
        draw.text((170, y - 4), name, font=_font(32, bold=True), fill=ink)
        draw.text((170, y + 42), account, font=_font(26), fill=grey)
        y += 130
    draw.line([(60, y), (width - 60, y)], fill=(225, 230, 228), width=2)

    y += 30
    draw.text((60, y), "จำนวนเงิน", font=_font(28), fill=grey)
    draw.text((60, y + 42), f"{format_amount(transfer.amount_satang)} บาท", font=_font(56, bold=True), fill=ink)
    draw.text((60, y + 130), "ค่าธรรมเนียม 0.00 บาท", font=_font(26), fill=grey)
    draw.text((60, y + 180), "เลขที่รายการ:", font=_font(24), fill=grey)
    draw.text((60, y + 214), transfer.trans_ref, font=_font(26), fill=ink)

    qr = qrcode.QRCode(border=2, box_size=6, error_correction=qrcode.constants.ERROR_CORRECT_M)
    qr.add_data(transfer.payload)
    qr.make(fit=True)
    mini = qr.make_image(fill_color="black", back_color="white").convert("RGB")
    mini = mini.resize((220, 220), Image.NEAREST)
    image.paste(mini, (width - 60 - 220, height - 80 - 220))
    draw.text((width - 60 - 220, height - 78), "สแกนตรวจสอบสลิป", font=_font(22), fill=grey)

    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()
