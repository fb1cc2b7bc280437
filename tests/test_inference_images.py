"""Image preparation for Qwen2.5-VL: the resize rule, the token budget, orientation, encoding."""
from __future__ import annotations

import base64
import io
import logging

import pytest
from PIL import Image

from inference.images import ImageError, prepare_image, raw_visual_tokens, smart_resize, visual_tokens


def _jpeg(width: int, height: int, *, orientation: int | None = None, color=(200, 30, 30)) -> bytes:
    image = Image.new("RGB", (width, height), color)
    # a marker in the top-left corner to see where "up" ends after EXIF rotation
    image.paste((0, 0, 255), (0, 0, max(1, width // 4), max(1, height // 8)))
    buffer = io.BytesIO()
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation
    image.save(buffer, format="JPEG", exif=exif.tobytes(), quality=90)
    return buffer.getvalue()


def _decode(data_url: str) -> Image.Image:
    header, _, payload = data_url.partition(",")
    assert header == "data:image/jpeg;base64"
    return Image.open(io.BytesIO(base64.b64decode(payload)))


# Rows computed from qwen-vl-utils' smart_resize (reference/llm.md §3): (W, H, max tokens, W', H', tokens)
@pytest.mark.parametrize("width,height,budget,new_w,new_h,tokens", [
    (4032, 3024, 16384, 4032, 3024, 15552),
    (4032, 3024, 2048, 1456, 1092, 2028),
    (4032, 3024, 1280, 1148, 840, 1230),
    (4032, 3024, 1024, 1008, 756, 972),
    (4032, 3024, 512, 728, 532, 494),
    (1024, 768, 16384, 1036, 756, 999),
    (1080, 2340, 16384, 1092, 2352, 3276),
    (1080, 2340, 1280, 672, 1456, 1248),
])
def test_smart_resize_matches_qwen_vl_utils(width, height, budget, new_w, new_h, tokens):
    h, w = smart_resize(height, width, max_pixels=budget * 28 * 28)
    assert (w, h) == (new_w, new_h)
    assert visual_tokens(h, w) == tokens


def test_raw_phone_photo_costs_15552_tokens():
    assert raw_visual_tokens(3024, 4032) == 15552


def test_tiny_image_is_scaled_up_to_the_minimum():
    h, w = smart_resize(10, 10)
    assert h % 28 == 0 and w % 28 == 0 and h * w >= 4 * 28 * 28


def test_extreme_aspect_ratio_is_refused():
    with pytest.raises(ImageError, match="too long"):
        smart_resize(10, 2500)


def test_phone_photo_is_resized_within_the_budget_and_logged(caplog):
    caplog.set_level(logging.INFO, logger="inference.images")
    prepared = prepare_image(_jpeg(4032, 3024))
    assert (prepared.width, prepared.height) == (1148, 840)
    assert prepared.width % 28 == 0 and prepared.height % 28 == 0
    assert prepared.visual_tokens == 1230 <= 1280
    assert prepared.raw_visual_tokens == 15552
    assert _decode(prepared.data_url).size == (1148, 840)
    assert "1230 visual tokens (raw 15552)" in caplog.text


def test_budget_is_configurable():
    prepared = prepare_image(_jpeg(4032, 3024), max_visual_tokens=512)
    assert prepared.visual_tokens == 494
    assert _decode(prepared.data_url).size == (728, 532)


def test_exif_orientation_is_applied_before_resizing():
    # stored landscape 4032×3024 with "rotate 90° CW" (6): the customer saw a portrait photo
    prepared = prepare_image(_jpeg(4032, 3024, orientation=6))
    assert (prepared.source_width, prepared.source_height) == (3024, 4032)
    assert prepared.height > prepared.width
    image = _decode(prepared.data_url).convert("RGB")
    # the blue marker was top-left of the stored image; after a 90° CW turn it is at the top-right
    assert image.getpixel((image.width - 5, 5))[2] > 150
    assert image.getpixel((5, 5))[0] > 150


def test_png_with_transparency_becomes_jpeg_on_white():
    buffer = io.BytesIO()
    Image.new("RGBA", (300, 200), (0, 0, 0, 0)).save(buffer, format="PNG")
    prepared = prepare_image(buffer.getvalue())
    decoded = _decode(prepared.data_url)
    assert decoded.format == "JPEG"
    assert min(decoded.convert("RGB").getpixel((10, 10))) > 240


@pytest.mark.parametrize("data,message", [(b"", "empty"), (b"not an image at all", "not a readable image"),
                                          (b"\xff\xd8\xff\xe0" + b"\0" * 20, "not a readable image")])
def test_bad_bytes_get_a_clear_error(data, message):
    with pytest.raises(ImageError, match=message):
        prepare_image(data)
