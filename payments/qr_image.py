"""PromptPay QR as a PNG for LINE: original ≤ 1024 px (and far below 10 MB), preview ≤ 240 px (≤ 1 MB).

The code keeps its 4-module quiet zone; an optional caption (amount, shop name) is printed under it in
a Thai-capable font from Debian's fonts-thai-tlwg (installed by `make system-deps`). Without the font the
QR is still made, without the caption, and a warning is logged.
"""
from __future__ import annotations

import io
import logging

import qrcode
from PIL import Image, ImageDraw

from shop.fonts import FontMissing, find_thai_font, fit_font
from shop.money import format_baht

log = logging.getLogger(__name__)

MAX_SIDE = 1024
PREVIEW_SIDE = 240
QUIET_ZONE_MODULES = 4
def _qr_matrix(payload: str) -> list[list[bool]]:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=QUIET_ZONE_MODULES)
    code.add_data(payload)
    code.make(fit=True)
    return code.get_matrix()  # includes the quiet zone


def _draw_code(payload: str, max_side: int) -> Image.Image:
    matrix = _qr_matrix(payload)
    modules = len(matrix)
    small = Image.new("1", (modules, modules), 1)
    small.putdata([0 if dark else 1 for row in matrix for dark in row])
    box = max(1, max_side // modules)  # whole pixels per module: crisp edges
    return small.resize((modules * box, modules * box), Image.Resampling.NEAREST).convert("L")


def _caption_lines(amount_satang: int | None, caption: str | None) -> list[str]:
    lines = []
    if amount_satang is not None:
        lines.append(format_baht(amount_satang))
    if caption and caption.strip():
        lines.append(caption.strip())
    return lines


def render_qr_png(payload: str, *, amount_satang: int | None = None, caption: str | None = None) -> bytes:
    """PNG of the QR (quiet zone kept), with the amount and a caption such as the shop name under it."""
    lines = _caption_lines(amount_satang, caption)
    if lines:
        try:
            find_thai_font()
        except FontMissing as error:  # the code is what matters: send it without the caption
            log.warning("QR caption left out: %s", error)
            lines = []
    caption_height = 0 if not lines else 70 + 56 * (len(lines) - 1) + 30
    code = _draw_code(payload, MAX_SIDE - caption_height if lines else MAX_SIDE)
    if not lines:
        return _png(code)
    canvas = Image.new("L", (code.width, code.height + caption_height), 255)
    canvas.paste(code, (0, 0))
    draw = ImageDraw.Draw(canvas)
    top = code.height
    for index, line in enumerate(lines):
        font = fit_font(line, code.width - 40, 60 if index == 0 else 44)
        draw.text((code.width // 2, top), line, font=font, fill=0, anchor="mt")
        top += 70 if index == 0 else 56
    return _png(canvas)


def render_preview_png(png: bytes) -> bytes:
    """Small copy for LINE's previewImageUrl (≤ 1 MB): the same picture, at most 240 px a side."""
    with Image.open(io.BytesIO(png)) as image:
        image.load()
        preview = image.convert("L")
    preview.thumbnail((PREVIEW_SIDE, PREVIEW_SIDE), Image.Resampling.LANCZOS)
    return _png(preview)


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


__all__ = ["render_qr_png", "render_preview_png", "find_thai_font", "FontMissing", "MAX_SIDE", "PREVIEW_SIDE"]
