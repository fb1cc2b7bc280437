"""Customer photos prepared for Qwen2.5-VL: upright, resized to a visual-token budget, JPEG, `data:` URL.

Qwen2.5-VL turns every 28×28 block of the (resized) image into one visual token. A 12-MP phone photo
is 15,552 tokens at the model's default bounds, nearly a whole 16K context, and vLLM's server-side
pixel bounds are reported to be ignored in some versions. So the resize happens here, with the same
rule as qwen-vl-utils' `smart_resize`: the server then receives an image whose size is already a
multiple of 28 and whose token count is known before the request is sent.
"""
from __future__ import annotations

import base64
import io
import logging
import math
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

log = logging.getLogger(__name__)

IMAGE_FACTOR = 28                     # pixels per visual token side (14-px patches merged 2×2)
MIN_PIXELS = 4 * IMAGE_FACTOR ** 2    # qwen-vl-utils default lower bound (4 tokens)
MAX_PIXELS = 16384 * IMAGE_FACTOR ** 2  # qwen-vl-utils default upper bound (16,384 tokens)
MAX_RATIO = 200                       # qwen-vl-utils refuses ratios above this; the server 200 or more after resizing
DEFAULT_MAX_VISUAL_TOKENS = 1280      # Qwen README's suggested upper bound "to balance performance and cost"
DEFAULT_JPEG_QUALITY = 85
VISION_FRAME_TOKENS = 2               # <|vision_start|> and <|vision_end|> around the image tokens


class ImageError(ValueError):
    """The bytes are not an image the model can be shown. `str()` says why, in plain words."""


def _round_by(number: float, factor: int) -> int:
    return round(number / factor) * factor


def _ceil_by(number: float, factor: int) -> int:
    return math.ceil(number / factor) * factor


def _floor_by(number: float, factor: int) -> int:
    return math.floor(number / factor) * factor


def smart_resize(height: int, width: int, *, factor: int = IMAGE_FACTOR,
                 min_pixels: int = MIN_PIXELS, max_pixels: int = MAX_PIXELS) -> tuple[int, int]:
    """(height, width) that Qwen2.5-VL's processor would use: multiples of `factor`, area within bounds.

    Same rule as qwen-vl-utils `smart_resize`, so a client-side resize and the server agree.
    """
    if height <= 0 or width <= 0:
        raise ImageError(f"image has no area ({width}×{height})")
    if max(height, width) / min(height, width) > MAX_RATIO:
        raise ImageError(f"image is too long and thin ({width}×{height}); the ratio must be at most {MAX_RATIO}")
    h_bar = max(factor, _round_by(height, factor))
    w_bar = max(factor, _round_by(width, factor))
    if h_bar * w_bar > max_pixels:
        beta = math.sqrt((height * width) / max_pixels)
        h_bar = max(factor, _floor_by(height / beta, factor))
        w_bar = max(factor, _floor_by(width / beta, factor))
    elif h_bar * w_bar < min_pixels:
        beta = math.sqrt(min_pixels / (height * width))
        h_bar = _ceil_by(height * beta, factor)
        w_bar = _ceil_by(width * beta, factor)
    # The server's processor checks the ratio again on the resized size, and refuses 200 or more with a
    # 400 (a 30×5999 image passes the check above but becomes 28×5992, ratio 214).
    if max(h_bar, w_bar) / min(h_bar, w_bar) >= MAX_RATIO:
        raise ImageError(f"image is too long and thin ({width}×{height} becomes {w_bar}×{h_bar}); "
                         f"the ratio must stay below {MAX_RATIO}")
    return h_bar, w_bar


def visual_tokens(height: int, width: int, *, factor: int = IMAGE_FACTOR) -> int:
    """Image tokens of an already-resized image: one per 28×28 block (framing tokens not included)."""
    return (height // factor) * (width // factor)


def raw_visual_tokens(height: int, width: int) -> int:
    """Tokens the photo would cost if sent as it is, at the model's default pixel bounds."""
    return visual_tokens(*smart_resize(height, width))


@dataclass(frozen=True)
class PreparedImage:
    data_url: str            # data:image/jpeg;base64,...
    width: int               # after resizing (multiple of 28)
    height: int
    visual_tokens: int       # tokens this image costs in the prompt (without the 2 framing tokens)
    source_width: int        # after EXIF orientation, before resizing
    source_height: int
    raw_visual_tokens: int   # what the unresized photo would have cost
    jpeg_bytes: int          # size of the re-encoded JPEG

    def content_part(self) -> dict:
        """OpenAI chat content part for this image."""
        return {"type": "image_url", "image_url": {"url": self.data_url}}


_SWAPS_SIDES = {5, 6, 7, 8}   # EXIF orientations that turn the stored image by 90°


def _open(data: bytes, max_pixels: int, min_pixels: int) -> tuple[Image.Image, int, int]:
    """Decode, upright. For JPEG, decode at a reduced DCT scale when the target is much smaller
    (a 12-MP photo decodes several times faster). Returns the image and the upright source size."""
    if not data:
        raise ImageError("the image is empty")
    try:
        image = Image.open(io.BytesIO(data))
        stored_w, stored_h = image.size
        swapped = image.getexif().get(0x0112) in _SWAPS_SIDES
        width, height = (stored_h, stored_w) if swapped else (stored_w, stored_h)
        target_h, target_w = smart_resize(height, width, min_pixels=min_pixels, max_pixels=max_pixels)
        if image.format == "JPEG":
            image.draft("RGB", (target_h, target_w) if swapped else (target_w, target_h))
        image.load()
        image = ImageOps.exif_transpose(image)
    except ImageError:
        raise
    except Image.DecompressionBombError:
        raise ImageError("the image is too large to open safely") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise ImageError(f"not a readable image ({type(error).__name__})") from None
    return image, width, height


def _to_rgb(image: Image.Image) -> Image.Image:
    """RGB for JPEG; transparent areas become white (as a chat app shows them), not black."""
    if image.mode == "RGB":
        return image
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")


def prepare_image(data: bytes, *, max_visual_tokens: int = DEFAULT_MAX_VISUAL_TOKENS,
                  min_visual_tokens: int = 4, jpeg_quality: int = DEFAULT_JPEG_QUALITY) -> PreparedImage:
    """Photo bytes (JPEG, PNG, WebP, ...) → upright RGB JPEG within the token budget, as a data URL."""
    if max_visual_tokens < min_visual_tokens or min_visual_tokens < 1:
        raise ValueError("the visual-token budget must be at least the minimum, and both positive")
    min_pixels, max_pixels = min_visual_tokens * IMAGE_FACTOR ** 2, max_visual_tokens * IMAGE_FACTOR ** 2
    image, source_width, source_height = _open(data, max_pixels, min_pixels)
    image = _to_rgb(image)
    height, width = smart_resize(source_height, source_width, min_pixels=min_pixels, max_pixels=max_pixels)
    if (width, height) != image.size:
        image = image.resize((width, height), Image.Resampling.BICUBIC)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=jpeg_quality, optimize=True)
    jpeg = buffer.getvalue()
    prepared = PreparedImage(
        data_url="data:image/jpeg;base64," + base64.b64encode(jpeg).decode("ascii"),
        width=width, height=height, visual_tokens=visual_tokens(height, width),
        source_width=source_width, source_height=source_height,
        raw_visual_tokens=raw_visual_tokens(source_height, source_width), jpeg_bytes=len(jpeg),
    )
    log.info("image prepared: %dx%d -> %dx%d, %d visual tokens (raw %d), %d JPEG bytes",
             source_width, source_height, width, height, prepared.visual_tokens,
             prepared.raw_visual_tokens, prepared.jpeg_bytes)
    return prepared


__all__ = ["IMAGE_FACTOR", "MIN_PIXELS", "MAX_PIXELS", "DEFAULT_MAX_VISUAL_TOKENS", "VISION_FRAME_TOKENS",
           "ImageError", "PreparedImage", "smart_resize", "visual_tokens", "raw_visual_tokens", "prepare_image"]
