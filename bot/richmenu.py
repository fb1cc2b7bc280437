"""The shop's default rich menu: six tiles under the chat, each sending a postback the bot answers.

    แนะนำเกม · ค้นหาเกม · ตะกร้า
    สถานะคำสั่งซื้อ · โปรโมชัน · คุยกับแอดมิน

The request body is built with line-bot-sdk v3's models (`RichMenuRequest`), so the SDK checks it
before LINE does. The picture is drawn with Pillow and the Thai font at one of LINE's two rich-menu
sizes (2500×1686 or 2500×843, JPEG or PNG, at most 1 MB), or is the shop's own file, checked against
the same rules. Tiles follow the picture's size: a shop's half-height picture gets half-height tiles.
"""
from __future__ import annotations

import io
from dataclasses import dataclass

from linebot.v3.messaging import PostbackAction, RichMenuArea, RichMenuBounds, RichMenuRequest, RichMenuSize
from PIL import Image, ImageDraw, UnidentifiedImageError

from agent import actions
from shop.fonts import fit_font

SIZES = ((2500, 1686), (2500, 843))
MAX_IMAGE_BYTES = 1024 * 1024
IMAGE_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg"}
MENU_NAME = "salesbot default menu"
CHAT_BAR_TEXT = "เมนูร้าน"        # LINE: at most 14 characters
# Postbacks only the rich menu sends (the other tiles reuse the buttons' actions).
SEARCH_DATA = "rm=search"
PROMOTIONS_DATA = "rm=promo"


class RichMenuImageError(ValueError):
    """The shop's picture breaks LINE's rules; the message says which and how to fix it."""


@dataclass(frozen=True)
class Tile:
    label: str
    hint: str            # small second line on the picture
    data: str            # postback data
    display_text: str    # what the chat shows as the customer's message
    colour: str
    open_keyboard: bool = False

    def action(self) -> PostbackAction:
        return PostbackAction(label=self.label, data=self.data, display_text=self.display_text,
                              input_option="openKeyboard" if self.open_keyboard else None)


TILES = (
    Tile("แนะนำเกม", "บอกจำนวนคน เวลา งบ", actions.encode("recommend"), "ช่วยแนะนำเกมหน่อย", "#06C755"),
    Tile("ค้นหาเกม", "พิมพ์ชื่อเกมที่อยากได้", SEARCH_DATA, "ค้นหาเกม", "#1E88E5", open_keyboard=True),
    Tile("ตะกร้า", "ดูสินค้าที่เลือกไว้", actions.encode("cart"), "ดูตะกร้าสินค้า", "#F57C00"),
    Tile("สถานะคำสั่งซื้อ", "เช็กการชำระเงินและจัดส่ง", actions.encode("status"), "เช็กสถานะคำสั่งซื้อ", "#5E35B1"),
    Tile("โปรโมชัน", "เกมราคาพิเศษตอนนี้", PROMOTIONS_DATA, "มีโปรโมชันอะไรบ้าง", "#D81B60"),
    Tile("คุยกับแอดมิน", "ให้พนักงานช่วยตอบ", actions.encode("staff"), "ขอคุยกับแอดมิน", "#546E7A"),
)
COLUMNS, ROWS = 3, 2


def _bounds(width: int, height: int) -> list[RichMenuBounds]:
    """A 3×2 grid covering the whole picture; the last column and row take the rounding remainder."""
    xs = [round(width * i / COLUMNS) for i in range(COLUMNS + 1)]
    ys = [round(height * i / ROWS) for i in range(ROWS + 1)]
    return [RichMenuBounds(x=xs[c], y=ys[r], width=xs[c + 1] - xs[c], height=ys[r + 1] - ys[r])
            for r in range(ROWS) for c in range(COLUMNS)]


def menu_request(width: int = 2500, height: int = 1686) -> RichMenuRequest:
    """The rich menu object for a picture of `width`×`height` (one of `SIZES`)."""
    if (width, height) not in SIZES:
        raise RichMenuImageError(f"a rich menu is 2500×1686 or 2500×843 pixels, not {width}×{height}")
    areas = [RichMenuArea(bounds=bounds, action=tile.action())
             for bounds, tile in zip(_bounds(width, height), TILES, strict=True)]
    return RichMenuRequest(size=RichMenuSize(width=width, height=height), selected=True, name=MENU_NAME,
                           chat_bar_text=CHAT_BAR_TEXT, areas=areas)


def draw_default_image(width: int = 2500, height: int = 1686) -> bytes:
    """The default picture: one coloured tile per area, its Thai label and a hint line, as PNG."""
    image = Image.new("RGB", (width, height), "#FFFFFF")
    draw = ImageDraw.Draw(image)
    gap = 12
    tiles = list(zip(_bounds(width, height), TILES, strict=True))
    inner = min(bounds.width for bounds, _ in tiles) - 4 * gap - 80
    # one size for every label (the size the longest one fits at), and one for every hint
    label = min((fit_font(t.label, inner, int(b.height * 0.22), bold=True, smallest=40) for b, t in tiles),
                key=lambda font: font.size)
    hint = min((fit_font(t.hint, inner, int(b.height * 0.10), smallest=28) for b, t in tiles),
               key=lambda font: font.size)
    for bounds, tile in tiles:
        box = (bounds.x + gap, bounds.y + gap, bounds.x + bounds.width - gap, bounds.y + bounds.height - gap)
        draw.rounded_rectangle(box, radius=48, fill=tile.colour)
        centre_x = bounds.x + bounds.width // 2
        centre_y = bounds.y + bounds.height // 2
        draw.text((centre_x, centre_y - bounds.height * 0.06), tile.label, font=label, fill="#FFFFFF", anchor="mm")
        draw.text((centre_x, centre_y + bounds.height * 0.17), tile.hint, font=hint, fill="#FFFFFF", anchor="mm")
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    data = out.getvalue()
    check_image(data)  # the default must pass the rules a shop's own picture must pass
    return data


def check_image(data: bytes) -> tuple[str, int, int]:
    """(content type, width, height) of a rich-menu picture; RichMenuImageError when LINE would refuse it."""
    if len(data) > MAX_IMAGE_BYTES:
        raise RichMenuImageError(f"the picture is {len(data) / 1024:.0f} KB; LINE accepts at most 1 MB "
                                 "(save it as JPEG with a lower quality)")
    try:
        with Image.open(io.BytesIO(data)) as picture:
            kind, (width, height) = picture.format, picture.size
    except (UnidentifiedImageError, OSError):
        raise RichMenuImageError("the file is not a JPEG or PNG picture") from None
    if kind not in IMAGE_TYPES:
        raise RichMenuImageError(f"the picture is {kind}; LINE accepts JPEG or PNG")
    if (width, height) not in SIZES:
        raise RichMenuImageError(f"the picture is {width}×{height}; a rich menu is 2500×1686 or 2500×843 pixels")
    return IMAGE_TYPES[kind], width, height
