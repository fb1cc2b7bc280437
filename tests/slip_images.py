"""Synthetic slip images for tests and bench/slips.py: a slip-like page with a mini QR in the corner,
and the ways phones damage it (rotation, blur, JPEG, downscaling, perspective, status-bar screenshots).

Not shipped: the simulator draws its own slips; this is only what our reader is tested against.
"""
from __future__ import annotations

import io
import random

import qrcode
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from payments import emv
from payments.qr_image import find_thai_font


def slip_payload(bank: str = "004", trans_ref: str = "016330142045BPM05678", *, crc: str | None = None) -> str:
    """A mini-QR payload as bank apps print it; ``crc`` overrides the CRC (for broken-CRC tests)."""
    template = emv.encode([("00", "000001"), ("01", bank), ("02", trans_ref)])
    payload = emv.with_crc(emv.encode([("00", template), ("51", "TH")]), "91")
    return payload if crc is None else payload[:-4] + crc


def qr_image(text: str, module_px: int = 4, border: int = 4) -> Image.Image:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=module_px, border=border)
    code.add_data(text)
    code.make(fit=True)
    return code.make_image(fill_color="black", back_color="white").get_image().convert("RGB")


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.truetype(str(find_thai_font()), size)
    except Exception:  # noqa: BLE001 - synthetic images may use the default font
        return ImageFont.load_default()


def slip_page(payload: str, *, width: int = 1000, qr_px: int = 3, rng: random.Random | None = None) -> Image.Image:
    """A bank-app style slip: header band, transfer details in Thai, mini QR bottom right."""
    rng = rng or random.Random(0)
    height = int(width * 1.55)
    page = Image.new("RGB", (width, height), (rng.randint(235, 255), rng.randint(240, 255), 250))
    draw = ImageDraw.Draw(page)
    draw.rectangle((0, 0, width, height // 8), fill=(rng.randint(0, 80), rng.randint(90, 160), rng.randint(60, 200)))
    big, small = _font(width // 18), _font(width // 28)
    draw.text((width // 20, height // 30), "โอนเงินสำเร็จ", font=big, fill="white")
    lines = ["จาก นาย ทดสอบ ใจดี", "xxx-x-x1234-x", "ไปยัง ร้านบอร์ดเกม", "xxx-xxx-5678",
             f"จำนวนเงิน {rng.randint(100, 5000):,}.00 บาท", "26 พ.ย. 69 14:03 น.", "เลขที่รายการ: 0163301420"]
    for index, line in enumerate(lines):
        draw.text((width // 20, height // 6 + index * height // 14), line, font=small, fill=(30, 30, 30))
    code = qr_image(payload, module_px=qr_px)
    page.paste(code, (width - code.width - width // 20, height - code.height - height // 20))
    return page


def screenshot(page: Image.Image, size: tuple[int, int] = (1080, 2340)) -> Image.Image:
    """The slip as a phone screenshot: status bar, app bar, slip scaled to the screen width, nav bar."""
    width, height = size
    shot = Image.new("RGB", size, (245, 245, 245))
    draw = ImageDraw.Draw(shot)
    draw.rectangle((0, 0, width, 90), fill=(20, 20, 20))
    draw.text((30, 25), "14:05", font=_font(40), fill="white")
    draw.rectangle((width - 150, 30, width - 40, 60), outline="white", width=3)
    draw.rectangle((0, 90, width, 260), fill=(255, 255, 255))
    draw.text((40, 140), "แชร์สลิป", font=_font(48), fill=(20, 20, 20))
    scaled = page.resize((width - 80, int(page.height * (width - 80) / page.width)), Image.Resampling.LANCZOS)
    shot.paste(scaled, (40, 300))
    draw.rectangle((0, height - 130, width, height), fill=(0, 0, 0))
    return shot


def perspective(image: Image.Image, strength: float, rng: random.Random) -> Image.Image:
    """A photo taken at an angle: each corner of the page lands up to ``strength`` of the size inwards.

    QUAD takes the source point for each output corner, so pulling the page's corners inwards means
    sampling from outside the page (a background shows around it).
    """
    width, height = image.size

    def jitter(limit: int) -> int:
        return rng.randint(0, max(1, int(limit * strength)))

    quad = (-jitter(width), -jitter(height), -jitter(width), height + jitter(height),
            width + jitter(width), height + jitter(height), width + jitter(width), -jitter(height))
    return image.transform(image.size, Image.Transform.QUAD, quad, Image.Resampling.BICUBIC, fillcolor=(128, 128, 128))


def photo(page: Image.Image, rng: random.Random, *, angle: float = 0, blur: float = 0, scale: float = 1.0,
          skew: float = 0, jpeg_quality: int | None = None) -> Image.Image:
    image = page
    if skew:
        image = perspective(image, skew, rng)
    if angle:
        image = image.rotate(angle, expand=True, fillcolor=(90, 80, 70), resample=Image.Resampling.BICUBIC)
    if blur:
        image = image.filter(ImageFilter.GaussianBlur(blur))
    if scale != 1.0:
        image = image.resize((max(1, int(image.width * scale)), max(1, int(image.height * scale))),
                             Image.Resampling.LANCZOS)
    if jpeg_quality:
        image = Image.open(io.BytesIO(encode(image, "JPEG", quality=jpeg_quality)))
    return image


def encode(image: Image.Image, fmt: str = "PNG", **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()
