"""Generated product covers: the hero picture of a product card when the shop has no photo of its own.

A coloured card with the Thai and English titles, the player count and the play time, drawn with
Pillow and the Thai font. 1024×768 JPEG (LINE's Flex image limit is 1024 px a side and 10 MB; this is
far below both), the 4:3 ratio every product card uses so that cards in a carousel line up.
The colour follows the SKU, so a product keeps its colour from one chat to the next.
"""
from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from functools import lru_cache

from PIL import Image, ImageDraw

from shop.fonts import fit_font, thai_font

WIDTH, HEIGHT = 1024, 768
ASPECT_RATIO = "4:3"   # the Flex hero's aspectRatio, for covers and shop photos alike
MARGIN = 64
# Deep colours that keep white text readable (contrast ≥ 4.5:1 against white).
PALETTE = ("#1E5C8C", "#8C2F39", "#2F6B3A", "#6A3D8F", "#9A4A12", "#245E63", "#7A2E5F", "#3D4F8F")


@dataclass(frozen=True)
class Cover:
    """What a cover shows; built from a product row or a product dict as the tools return it."""
    sku: str
    name_th: str
    name_en: str
    min_players: int | None = None
    max_players: int | None = None
    min_minutes: int | None = None
    max_minutes: int | None = None

    @classmethod
    def of(cls, product) -> Cover:
        """From a `Product` row or a product dict (same attribute names)."""
        get = product.get if isinstance(product, dict) else lambda key: getattr(product, key, None)
        return cls(sku=str(get("sku") or ""), name_th=(get("name_th") or "").strip(),
                   name_en=(get("name_en") or "").strip(), min_players=get("min_players"),
                   max_players=get("max_players"), min_minutes=get("min_minutes"), max_minutes=get("max_minutes"))

    @classmethod
    def of_row(cls, product) -> Cover:
        """From a `Product` row, play facts missing from the listing taken from its BoardGameGeek game,
        as the product cards show them (agent.tools.product_json)."""
        game = product.game

        def fact(own, from_game: str):
            return own if own is not None or game is None else getattr(game, from_game)

        return cls(sku=product.sku, name_th=(product.name_th or "").strip(), name_en=(product.name_en or "").strip(),
                   min_players=fact(product.min_players, "min_players"),
                   max_players=fact(product.max_players, "max_players"), min_minutes=product.min_minutes,
                   max_minutes=fact(product.max_minutes, "play_minutes"))

    @property
    def version(self) -> str:
        """Changes whenever what the cover shows changes (a URL part, so LINE's image cache is fresh)."""
        return hashlib.sha256(repr(self).encode("utf-8")).hexdigest()[:10]

    @property
    def colour(self) -> str:
        return PALETTE[int(hashlib.sha256(self.sku.encode("utf-8")).hexdigest(), 16) % len(PALETTE)]

    def facts(self) -> list[str]:
        parts = []
        low, high = self.min_players, self.max_players
        if low or high:
            low, high = low or high, high or low
            parts.append(f"{low} คน" if low == high else f"{low}-{high} คน")
        low, high = self.min_minutes, self.max_minutes
        if low or high:
            low, high = low or high, high or low
            parts.append(f"{low} นาที" if low == high else f"{low}-{high} นาที")
        return parts


def _wrap(text: str, font, width: int, max_lines: int) -> list[str]:
    """Break `text` into lines that fit `width`: at word boundaries (pythainlp finds Thai ones)."""
    from pythainlp.tokenize import word_tokenize

    words = word_tokenize(text, engine="newmm", keep_whitespace=True)
    lines, line = [], ""
    for word in words:
        candidate = line + word
        if line and font.getlength(candidate.strip()) > width:
            lines.append(line.strip())
            line = word.lstrip()
        else:
            line = candidate
    if line.strip():
        lines.append(line.strip())
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        while lines[-1] and font.getlength(lines[-1] + "…") > width:
            lines[-1] = lines[-1][:-1]
        lines[-1] += "…"
    return lines


def _draw_text_block(draw: ImageDraw.ImageDraw, top: int, text: str, size: int, *, bold: bool,
                     fill: str, max_lines: int, smallest: int) -> int:
    """Draw wrapped text from `top`; returns the y under it. Shrinks the font until it fits `max_lines`."""
    width = WIDTH - 2 * MARGIN
    font = thai_font(size, bold)
    lines = _wrap(text, font, width, max_lines)
    while size > smallest and (len(lines) == max_lines and lines[-1].endswith("…")):
        size -= 6
        font = thai_font(size, bold)
        lines = _wrap(text, font, width, max_lines)
    line_height = int(size * 1.45)
    for line in lines:
        draw.text((MARGIN, top), line, font=font, fill=fill)
        top += line_height
    return top


@lru_cache(maxsize=256)
def render_cover(cover: Cover) -> bytes:
    """The cover as JPEG bytes (cached per process: the same cover is asked for by every chat)."""
    image = Image.new("RGB", (WIDTH, HEIGHT), cover.colour)
    draw = ImageDraw.Draw(image)
    # a lighter band at the bottom for the facts, and a thin frame, like a game box's side
    draw.rectangle((0, HEIGHT - 150, WIDTH, HEIGHT), fill="#FFFFFF")
    draw.rectangle((16, 16, WIDTH - 17, HEIGHT - 167), outline="#FFFFFF", width=4)
    title = cover.name_th or cover.name_en or cover.sku
    subtitle = cover.name_en if cover.name_th and cover.name_en else ""
    top = _draw_text_block(draw, MARGIN + 10, title, 96, bold=True, fill="#FFFFFF", max_lines=3, smallest=54)
    if subtitle:
        _draw_text_block(draw, top + 10, subtitle, 54, bold=False, fill="#F2F2F2", max_lines=2, smallest=36)
    facts = "  ·  ".join(cover.facts()) or "บอร์ดเกม"
    font = fit_font(facts, WIDTH - 2 * MARGIN, 64, bold=True, smallest=30)
    draw.text((WIDTH // 2, HEIGHT - 75), facts, font=font, fill=cover.colour, anchor="mm")
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85, optimize=True)
    return out.getvalue()


__all__ = ["Cover", "render_cover", "ASPECT_RATIO", "WIDTH", "HEIGHT"]
