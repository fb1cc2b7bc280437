"""Reading slip mini-QR codes: payload parsing, classification, and images from phones (good and bad)."""
from __future__ import annotations

import io
import random
import struct
import zlib

import pytest
from click.testing import CliRunner
from PIL import Image
from slip_images import encode, photo, qr_image, screenshot, slip_page, slip_payload

from payments.promptpay import build_payload
from payments.qr_image import render_qr_png
from payments.slip_qr import SlipPayloadError, classify_text, parse_slip_payload, read_slip_image, read_slip_text

# Shape from codustry/thanakan tests/test_qr_data.py (an SCB-style 25-character transRef).
SCB_REF = "2023110801234567890ABCDEF"


def _ref_with_leading_zero_crc() -> tuple[str, str]:
    for number in range(10_000):
        ref = f"0163301420{number:06d}BPM"
        payload = slip_payload("004", ref)
        if payload.endswith(("9104" + "0",)) or payload[-4] == "0":
            return ref, payload
    raise AssertionError("no CRC with a leading zero found")


def test_parse_valid_payload():
    slip = parse_slip_payload(slip_payload("014", SCB_REF))
    assert (slip.sending_bank, slip.trans_ref, slip.country) == ("014", SCB_REF, "TH")
    assert not slip.crc_repaired


def test_crc_with_dropped_leading_zeros_is_accepted():
    ref, payload = _ref_with_leading_zero_crc()
    short = payload[:-4] + payload[-4:].lstrip("0")
    assert len(short) < len(payload)
    slip = parse_slip_payload(short)
    assert slip.trans_ref == ref and slip.crc_repaired and slip.payload == payload


def test_lowercase_crc_is_accepted():
    payload = slip_payload()
    assert parse_slip_payload(payload[:-4] + payload[-4:].lower()).payload == payload


@pytest.mark.parametrize("text, code", [
    (slip_payload(crc="0000") if not slip_payload().endswith("0000") else slip_payload(crc="FFFF"), "bad_crc"),
    (slip_payload("999"), "unknown_bank"),
    (slip_payload("004", "AB"), "bad_format"),
    (build_payload("0812345678", 126000), "promptpay_qr"),
    ("", "empty"),
    ("0041000600000201030040220016330142045BPM056785102TH9104ABCD", "bad_crc"),
])
def test_bad_payloads_say_why(text, code):
    with pytest.raises(SlipPayloadError) as error:
        parse_slip_payload(text)
    assert error.value.code == code


def test_wrong_api_id_is_rejected():
    from payments import emv

    template = emv.encode([("00", "000002"), ("01", "004"), ("02", "016330142045BPM05678")])
    payload = emv.with_crc(emv.encode([("00", template), ("51", "TH")]), "91")
    with pytest.raises(SlipPayloadError, match="API id"):
        parse_slip_payload(payload)


def test_classification():
    assert classify_text(slip_payload()).kind == "slip"
    assert classify_text(slip_payload()).valid
    broken = classify_text(slip_payload(crc="FFFF" if not slip_payload().endswith("FFFF") else "0000"))
    assert (broken.kind, broken.valid, broken.reason) == ("slip", False, "bad_crc")
    assert classify_text(build_payload("0812345678")).kind == "promptpay"
    assert classify_text("https://example.com/menu").kind == "other"


# --- images ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def page():
    return slip_page(slip_payload("004", "016330142045BPM05678"), rng=random.Random(3))


def _assert_slip(reading):
    assert reading.kind == "slip" and reading.valid, reading
    assert (reading.sending_bank, reading.trans_ref) == ("004", "016330142045BPM05678")


def test_reads_a_screenshot_with_status_bar(page):
    _assert_slip(read_slip_image(encode(screenshot(page), "PNG")))


@pytest.mark.parametrize("damage", [
    {"angle": 90}, {"angle": 12}, {"blur": 1.2}, {"jpeg_quality": 35}, {"scale": 0.6}, {"skew": 0.08},
    {"angle": -7, "blur": 0.8, "jpeg_quality": 60, "scale": 0.8},
])
def test_reads_damaged_photos(page, damage):
    image = photo(page, random.Random(5), **damage)
    _assert_slip(read_slip_image(encode(image.convert("RGB"), "JPEG", quality=90)))


def test_exif_rotated_photo(page):
    image = page.rotate(90, expand=True)
    exif = Image.Exif()
    exif[0x0112] = 8  # stored rotated; viewers turn it back
    _assert_slip(read_slip_image(encode(image, "JPEG", quality=90, exif=exif.tobytes())))


def test_two_codes_prefers_the_slip(page):
    canvas = Image.new("RGB", (page.width + 400, page.height), "white")
    canvas.paste(page, (0, 0))
    canvas.paste(qr_image("https://example.com", module_px=6), (page.width + 20, 40))
    _assert_slip(read_slip_image(encode(canvas)))


def test_promptpay_qr_sent_as_slip():
    reading = read_slip_image(render_qr_png(build_payload("0812345678", 126000), amount_satang=126000))
    assert (reading.kind, reading.valid, reading.reason) == ("promptpay", False, "promptpay_qr")


def test_unrelated_qr_and_no_qr():
    assert read_slip_image(encode(qr_image("https://example.com/menu"))).kind == "other"
    blank = read_slip_image(encode(Image.new("RGB", (600, 900), "white"), "JPEG"))
    assert (blank.kind, blank.reason) == ("none", "no_qr")


def test_broken_crc_in_image_is_a_clear_outcome():
    bad = slip_payload(crc="FFFF" if not slip_payload().endswith("FFFF") else "0000")
    reading = read_slip_image(encode(slip_page(bad)))
    assert (reading.kind, reading.valid, reading.reason) == ("slip", False, "bad_crc")


def _bomb_png(side: int = 20_000) -> bytes:
    """A real 20,000 x 20,000 1-bit PNG (all white): about 50 kB on disk, 400 megapixels decoded."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    row = b"\x00" + b"\xff" * (side // 8)
    compressor = zlib.compressobj(9)
    body = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")


def test_decompression_bomb_is_refused_before_decoding():
    data = _bomb_png()
    assert len(data) < 2 * 1024 * 1024
    reading = read_slip_image(data)
    assert (reading.kind, reading.reason) == ("invalid_image", "too_many_pixels")


@pytest.mark.parametrize("data, reason", [
    (b"", "empty"),
    (b"hello, this is not an image at all", "not_an_image"),
    (b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n", "pdf"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "corrupt_image"),
])
def test_non_images(data, reason):
    reading = read_slip_image(data)
    assert (reading.kind, reading.reason) == ("invalid_image", reason)
    assert reading.detail


def test_truncated_jpeg(page):
    data = encode(screenshot(page), "JPEG", quality=85)
    reading = read_slip_image(data[: len(data) // 3])
    assert reading.kind in ("invalid_image", "none")  # cut short: refused or nothing decodable
    assert not reading.valid
    if reading.kind == "invalid_image":
        assert reading.reason == "corrupt_image"


def test_truncated_png(page):
    data = encode(page, "PNG")
    reading = read_slip_image(data[: len(data) // 2])
    assert (reading.kind, reading.reason) == ("invalid_image", "corrupt_image")


def test_animated_gif_uses_the_first_frame(page):
    first = page.convert("P")
    second = Image.new("P", page.size, 0)
    buffer = io.BytesIO()
    first.save(buffer, "GIF", save_all=True, append_images=[second], duration=500, loop=0)
    _assert_slip(read_slip_image(buffer.getvalue()))


def test_read_slip_text_matches_image_reading():
    reading = read_slip_text(slip_payload())
    assert reading.valid and reading.sending_bank == "004"


def test_cli_reads_images_and_payloads(tmp_path, page):
    from payments.cli import slip

    runner = CliRunner()
    path = tmp_path / "slip.jpg"
    path.write_bytes(encode(screenshot(page), "JPEG", quality=80))
    result = runner.invoke(slip, ["read", str(path), "--json"])
    assert result.exit_code == 0, result.output
    assert '"trans_ref": "016330142045BPM05678"' in result.output and '"valid": true' in result.output
    result = runner.invoke(slip, ["read", slip_payload()])
    assert result.exit_code == 0 and "sending_bank: 004" in result.output
    bad = tmp_path / "notes.txt"
    bad.write_text("hello")
    result = runner.invoke(slip, ["read", str(bad)])
    assert result.exit_code == 1 and "not_an_image" in result.output
    result = runner.invoke(slip, ["read", "nonsense"])
    assert result.exit_code == 2


def test_transparent_png_is_read_on_white():
    code = qr_image(slip_payload(), module_px=6).convert("L")
    rgba = Image.new("RGBA", code.size, (0, 0, 0, 0))  # transparent black background
    rgba.putalpha(code.point(lambda value: 255 - value))  # only the dark modules are opaque
    _assert_slip(read_slip_image(encode(rgba)))
