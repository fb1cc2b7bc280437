"""The Thai font every generated picture uses (PromptPay QR captions, product covers, the rich menu).

Debian's fonts-thai-tlwg (installed by `make system-deps`) provides it; SALESBOT_THAI_FONT points
elsewhere. Pillow lays Thai out with libraqm when it has it, so vowels and tone marks stack correctly.
"""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from PIL import ImageFont

FONT_DIRS = ("/usr/share/fonts/truetype/tlwg", "/usr/share/fonts/opentype/tlwg", "/usr/share/fonts/truetype/thai")
FONT_NAMES = ("Loma.ttf", "Garuda.ttf", "Sawasdee.ttf", "Loma.otf", "Garuda.otf")
BOLD_NAMES = ("Loma-Bold.ttf", "Garuda-Bold.ttf", "Sawasdee-Bold.ttf", "Loma-Bold.otf", "Garuda-Bold.otf")


class FontMissing(RuntimeError):
    """No Thai-capable font: Thai text would print as boxes."""


@lru_cache(maxsize=1)
def find_thai_font() -> Path:
    """Locate a Thai font; SALESBOT_THAI_FONT overrides. Raises FontMissing with the fix."""
    override = os.environ.get("SALESBOT_THAI_FONT")
    candidates = [Path(override)] if override else []
    candidates += [Path(folder) / name for folder in FONT_DIRS for name in FONT_NAMES]
    for path in candidates:
        if path.is_file():
            return path
    raise FontMissing("no Thai font found: install Debian package fonts-thai-tlwg (make system-deps) "
                      "or set SALESBOT_THAI_FONT to a .ttf that has Thai glyphs")


@lru_cache(maxsize=1)
def find_bold_thai_font() -> Path:
    """The bold face of the same family when there is one, else the regular font."""
    regular = find_thai_font()
    for name in BOLD_NAMES:
        path = regular.parent / name
        if path.is_file() and name.split("-")[0] == regular.stem.split("-")[0]:
            return path
    return regular


@lru_cache(maxsize=64)
def thai_font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    path = find_bold_thai_font() if bold else find_thai_font()
    return ImageFont.truetype(str(path), size)


def fit_font(text: str, width: int, start: int, *, bold: bool = False, smallest: int = 12) -> ImageFont.FreeTypeFont:
    """The largest size from `start` down (2 px steps) at which `text` fits in `width` pixels."""
    size = start
    font = thai_font(size, bold)
    while size > smallest and font.getlength(text) > width:
        size -= 2
        font = thai_font(size, bold)
    return font
