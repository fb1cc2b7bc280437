"""PromptPay payloads, the EMV codec and QR images.

Expected payloads are the published test vectors of dtinth/promptpay-qr (index.test.js), which emits
tags in the same order as we do (00, 01, 29, 58, 53, 54, 63), so they can be compared byte for byte.
"""
from __future__ import annotations

import io
from decimal import Decimal

import pytest
import zxingcpp
from click.testing import CliRunner
from PIL import Image

from payments import emv
from payments.promptpay import build_payload, format_amount, parse_payload, parse_target
from payments.qr_image import MAX_SIDE, PREVIEW_SIDE, render_preview_png, render_qr_png


@pytest.mark.parametrize("target, amount, expected", [
    ("0801234567", None, "00020101021129370016A000000677010111011300668012345675802TH530376463046197"),
    ("080-123-4567", None, "00020101021129370016A000000677010111011300668012345675802TH530376463046197"),
    ("0000000000", 422, "00020101021229370016A000000677010111011300660000000005802TH530376454044.226304E469"),
    ("1111111111111", None, "00020101021129370016A000000677010111021311111111111115802TH530376463047B5A"),
])
def test_payload_matches_published_vectors(target, amount, expected):
    assert build_payload(target, amount) == expected


def test_crc_is_ccitt_false():
    assert emv.crc16("123456789") == "29B1"  # the catalogue check value


def test_international_mobile_form_is_the_same_target():
    assert build_payload("+66-80-123-4567") == build_payload("0801234567")


def test_ewallet_uses_subtag_03_and_length_39():
    payload = build_payload("123456789012345", 100)
    assert "2939" in payload and "0315123456789012345" in payload
    assert parse_payload(payload).target.kind == "ewallet"


def test_tag_order_is_promptpay_io_order():
    fields = [item.tag for item in emv.decode(build_payload("0812345678", 126000))]
    assert fields == ["00", "01", "29", "58", "53", "54", "63"]


@pytest.mark.parametrize("bad", ["812345678", "1812345678", "08123456789", "0812-34567x", "", "０８１２３４５６７８"])
def test_bad_targets_are_errors_not_manglings(bad):
    with pytest.raises(ValueError):
        build_payload(bad)


@pytest.mark.parametrize("amount, text", [(126000, "1260.00"), (1, "0.01"), (100500, "1005.00"),
                                          (Decimal("1.005") * 1000, "1005.00"), (Decimal("12.5"), "12.50")])
def test_amounts_have_two_decimals(amount, text):
    assert format_amount(amount) == text


def test_float_amounts_are_refused():
    with pytest.raises(TypeError):
        build_payload("0812345678", 12.5)
    with pytest.raises(ValueError):
        format_amount(Decimal("1.005"))  # half a satang
    with pytest.raises(ValueError):
        format_amount(0)


def test_parse_round_trip_and_static_vs_dynamic():
    parsed = parse_payload(build_payload("0812345678", 126050))
    assert parsed.dynamic and parsed.amount_satang == 126050
    assert parsed.target.digits == "0812345678" and parsed.proxy == "0066812345678"
    static = parse_payload(build_payload("1234567890123"))
    assert not static.dynamic and static.amount_satang is None and static.target.kind == "national_id"


def test_parse_accepts_other_tag_orders_and_lowercase_crc():
    # promptparse order (53 before 58); CRC recomputed for that order
    body = emv.encode([("00", "01"), ("01", "11"), ("29", "0016A00000067701011101130066812345678"),
                       ("53", "764"), ("58", "TH")])
    payload = emv.with_crc(body)
    assert parse_payload(payload[:-4] + payload[-4:].lower()).target.digits == "0812345678"


@pytest.mark.parametrize("broken, message", [
    (build_payload("0812345678")[:-1] + "0", "CRC mismatch"),
    (build_payload("0812345678")[:-4], "no CRC|CRC must be"),
    ("hello", "no CRC"),
    ("", "empty"),
])
def test_parse_rejects_bad_payloads_clearly(broken, message):
    with pytest.raises(emv.EmvError, match=message):
        parse_payload(broken)


def test_decode_rejects_truncated_fields():
    with pytest.raises(emv.EmvError, match="only"):
        emv.decode("0005ab")
    with pytest.raises(emv.EmvError, match="at most 99"):
        emv.field("01", "x" * 100)


def test_parse_target_keeps_readable_reasons():
    with pytest.raises(ValueError, match="leading 0"):
        parse_target("812345678")
    assert parse_target("081-234-5678").digits == "0812345678"


def _decode_png(png: bytes) -> list[str]:
    return [result.text for result in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))]


def test_qr_png_decodes_and_fits_line_limits():
    payload = build_payload("0812345678", 126000)
    png = render_qr_png(payload, amount_satang=126000, caption="ร้านบอร์ดเกมตัวอย่าง")
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and max(image.size) <= MAX_SIDE and len(png) < 10 * 1024 * 1024
    assert image.height > image.width  # the caption sits under the code
    assert _decode_png(png) == [payload]
    preview = render_preview_png(png)
    assert max(Image.open(io.BytesIO(preview)).size) <= PREVIEW_SIDE and len(preview) < 1024 * 1024


def test_qr_png_keeps_the_quiet_zone():
    image = Image.open(io.BytesIO(render_qr_png(build_payload("0812345678")))).convert("L")
    assert image.width == image.height
    border = image.width // 12  # the 4-module quiet zone is wider than this for any payload we make
    for box in ((0, 0, image.width, border), (0, 0, border, image.height),
                (image.width - border, 0, image.width, image.height), (0, image.height - border, image.width, image.height)):
        assert image.crop(box).getextrema() == (255, 255)


def test_cli_payload_and_png(tmp_path):
    from payments.cli import promptpay

    runner = CliRunner()
    result = runner.invoke(promptpay, ["0801234567", "--payload"])
    assert result.exit_code == 0 and result.output.strip() == build_payload("0801234567")
    out = tmp_path / "qr.png"
    result = runner.invoke(promptpay, ["0812345678", "--amount", "1260.00", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert _decode_png(out.read_bytes()) == [build_payload("0812345678", 126000)]
    result = runner.invoke(promptpay, ["812345678"])
    assert result.exit_code != 0 and "leading 0" in result.output
    result = runner.invoke(promptpay, ["0812345678", "--amount", "12.345"])
    assert result.exit_code != 0 and "satang" in result.output


def test_missing_thai_font_still_makes_the_qr(monkeypatch, caplog, tmp_path):
    from payments import qr_image
    from shop import fonts

    qr_image.find_thai_font.cache_clear()
    monkeypatch.setattr(fonts, "FONT_DIRS", (str(tmp_path),))
    monkeypatch.setenv("SALESBOT_THAI_FONT", str(tmp_path / "missing.ttf"))
    try:
        with pytest.raises(qr_image.FontMissing, match="fonts-thai-tlwg"):
            qr_image.find_thai_font()
        payload = build_payload("0812345678", 5000)
        png = render_qr_png(payload, amount_satang=5000, caption="ร้าน")
        image = Image.open(io.BytesIO(png))
        assert image.width == image.height and _decode_png(png) == [payload]
        assert "caption left out" in caplog.text
    finally:
        qr_image.find_thai_font.cache_clear()
