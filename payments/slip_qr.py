"""Find and read the mini QR on a bank-transfer slip, from a phone photo or a screenshot.

The mini QR holds no amount or names, only the key a bank's slip-verification API needs:
``00LL{0006000001}{0103<bank>}{02LL<transRef>}`` ``5102TH`` ``9104<CRC>``. Reading it locally is free
and rejects junk (the shop's own PromptPay QR forwarded back, unrelated QR codes, broken CRCs)
before any provider quota is spent.
"""
from __future__ import annotations

import io
import itertools
import re
import threading
import time
import warnings
from dataclasses import dataclass, field
from typing import Literal

import zxingcpp
from PIL import Image, ImageFilter, ImageOps

from payments import emv
from payments.banks import is_known_bank
from payments.promptpay import looks_like_promptpay

SLIP_API_ID = "000001"
MAX_IMAGE_BYTES = 20 * 1024 * 1024      # LINE images are at most 10 MB; anything bigger is not a slip photo
MAX_IMAGE_PIXELS = 40_000_000           # checked from the header, before any pixel is decoded
ACCEPTED_FORMATS = ("JPEG", "PNG", "GIF", "WEBP", "BMP")
_WORK_SIDE = 2400                        # longest side we decode at; bigger photos are scaled down first
DECODE_DEADLINE_SECONDS = 1.5            # then "no QR" (staff look at the picture)
DECODES_AT_ONCE = 2                      # full-size decodes (non-JPEG) in flight per process: bounds the memory
_DECODES = threading.BoundedSemaphore(DECODES_AT_ONCE)
_TRANS_REF = re.compile(r"[0-9A-Za-z]{6,64}")

ReadingKind = Literal["slip", "promptpay", "other", "none", "invalid_image"]


class SlipPayloadError(emv.EmvError):
    """Text that is not a valid slip mini-QR payload; ``code`` says why in one word."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class SlipPayload:
    payload: str          # normalised: CRC left-padded and upper-cased
    sending_bank: str
    trans_ref: str
    country: str
    crc: str
    crc_repaired: bool    # the app had dropped leading zeros of the CRC


@dataclass
class SlipReading:
    """What was found in one image (or one pasted payload)."""

    kind: ReadingKind
    payload: str = ""
    sending_bank: str = ""
    trans_ref: str = ""
    valid: bool = False
    reason: str = ""          # one-word code when not a valid slip: no_qr, bad_crc, not_an_image, …
    detail: str = ""          # readable English for staff and the CLI
    codes: list[str] = field(default_factory=list)  # every QR text seen, for the record

    def as_dict(self) -> dict:
        return {"kind": self.kind, "valid": self.valid, "sending_bank": self.sending_bank,
                "trans_ref": self.trans_ref, "payload": self.payload, "reason": self.reason,
                "detail": self.detail, "codes": self.codes}


# --- payload -------------------------------------------------------------------------------------

def looks_like_slip(text: str) -> bool:
    """The root template 00 starts with the Slip Verify API id sub-field."""
    return bool(re.match(r"00\d\d0006000001", text))


def parse_slip_payload(text: str) -> SlipPayload:
    """Parse and validate a slip mini-QR payload. Raises SlipPayloadError with a code and a reason."""
    text = (text or "").strip()
    if not text:
        raise SlipPayloadError("empty", "empty payload")
    if looks_like_promptpay(text):
        raise SlipPayloadError("promptpay_qr", "this is a PromptPay payment QR, not a transfer slip QR")
    padded = _pad_short_crc(text)
    try:
        normalised = emv.verify_crc(padded, "91")
    except emv.EmvError as error:
        code = "bad_crc" if "CRC" in str(error) else "bad_format"
        raise SlipPayloadError(code, f"slip QR rejected: {error}") from None
    try:
        root = emv.decode_map(normalised)
        template = emv.decode_map(root.get("00", ""))
    except emv.EmvError as error:
        raise SlipPayloadError("bad_format", f"slip QR is not valid TLV: {error}") from None
    if template.get("00") != SLIP_API_ID:
        raise SlipPayloadError("bad_format", f"API id is {template.get('00')!r}, expected {SLIP_API_ID}")
    bank = template.get("01", "")
    if not re.fullmatch(r"\d{3}", bank):
        raise SlipPayloadError("bad_format", f"sending bank must be 3 digits, got {bank!r}")
    if not is_known_bank(bank):
        raise SlipPayloadError("unknown_bank", f"unknown sending bank code {bank}")
    trans_ref = template.get("02", "")
    if not _TRANS_REF.fullmatch(trans_ref):
        raise SlipPayloadError("bad_format", f"transaction reference {trans_ref!r} is not 6-64 letters/digits")
    return SlipPayload(payload=normalised, sending_bank=bank, trans_ref=trans_ref,
                       country=root.get("51", ""), crc=normalised[-4:], crc_repaired=padded != text)


def _pad_short_crc(text: str) -> str:
    """Some bank apps drop leading zeros of the CRC hex ("9104" then 1-3 digits): pad them back."""
    index = text.rfind("9104")
    tail = text[index + 4:] if index >= 0 else ""
    if index >= 0 and 0 < len(tail) < 4 and re.fullmatch(r"[0-9A-Fa-f]+", tail):
        return text[:index + 4] + tail.rjust(4, "0")
    return text


def classify_text(text: str, codes: list[str] | None = None) -> SlipReading:
    """Turn one decoded QR text into a reading: a slip (valid or not), a PromptPay QR, or other."""
    codes = codes if codes is not None else [text]
    if looks_like_promptpay(text):
        return SlipReading("promptpay", payload=text, reason="promptpay_qr", codes=codes,
                           detail="a PromptPay payment QR (the shop's QR sent back?), not a slip")
    try:
        slip = parse_slip_payload(text)
    except SlipPayloadError as error:
        kind: ReadingKind = "slip" if looks_like_slip(text) else "other"
        return SlipReading(kind, payload=text, reason=error.code if kind == "slip" else "not_a_slip_qr",
                           detail=str(error) if kind == "slip" else "the QR code is not a transfer slip",
                           codes=codes)
    return SlipReading("slip", payload=slip.payload, sending_bank=slip.sending_bank,
                       trans_ref=slip.trans_ref, valid=True, codes=codes)


_KIND_RANK = {"slip": 0, "promptpay": 1, "other": 2}


def best_reading(texts: list[str]) -> SlipReading:
    """Several QR codes in one picture: a valid slip wins, then an invalid slip, PromptPay, other."""
    if not texts:
        return SlipReading("none", reason="no_qr", detail="no QR code found in the image")
    readings = [classify_text(text, list(texts)) for text in texts]
    return min(readings, key=lambda reading: (not reading.valid, _KIND_RANK[reading.kind]))


# --- image ---------------------------------------------------------------------------------------

class ImageRejected(ValueError):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def open_image(data: bytes) -> Image.Image:
    """Open untrusted image bytes safely: size and pixel limits before decoding, first frame only.

    Returns a fully loaded grayscale image, upright per EXIF. Raises ImageRejected with a code.
    """
    if not data:
        raise ImageRejected("empty", "the file is empty")
    if len(data) > MAX_IMAGE_BYTES:
        raise ImageRejected("too_large", f"the file is {len(data) // (1024 * 1024)} MB; at most 20 MB")
    if data[:5] == b"%PDF-":
        raise ImageRejected("pdf", "a PDF, not an image; send a screenshot or photo of the slip")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
            width, height = image.size
            if width * height > MAX_IMAGE_PIXELS:
                raise ImageRejected("too_many_pixels",
                                    f"{width}×{height} pixels is more than a phone photo; refused before decoding")
            if getattr(image, "is_animated", False):
                image.seek(0)  # an animated GIF/WebP: read the first frame only
            with _DECODES:
                image = _decode_reduced(image)
            if image.getexif().get(0x0112, 1) != 1:  # camera photos are often stored sideways
                image = ImageOps.exif_transpose(image)
            if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
                # transparent pixels are often stored black: put them on white, as a viewer shows them
                background = Image.new("RGBA", image.size, (255, 255, 255, 255))
                image = Image.alpha_composite(background, image.convert("RGBA"))
            return image.convert("L")
    except ImageRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageRejected("too_many_pixels", "the image has too many pixels; refused before decoding") from None
    except Image.UnidentifiedImageError:
        if _looks_like_image(data):
            raise ImageRejected("corrupt_image", "the image header is damaged") from None
        raise ImageRejected("not_an_image", "not a JPEG, PNG, GIF, WebP or BMP image") from None
    except (OSError, SyntaxError, ValueError, EOFError) as error:  # truncated or corrupt data
        raise ImageRejected("corrupt_image", f"the image is damaged or cut short ({error})") from None


def _decode_reduced(image: Image.Image) -> Image.Image:
    """Decode at no more than about twice the size the QR search works at (`_WORK_SIDE`).

    JPEG (phone photos) is scaled down while decoding, in gray (Pillow's `draft`: the DCT decodes at
    1/2, 1/4 or 1/8), so a 40-megapixel photo never exists at full size in memory. Other formats have
    no such decoder: they decode whole (at most `DECODES_AT_ONCE` at a time) and are reduced at once.
    """
    longest = max(image.size)
    if longest > _WORK_SIDE and image.format == "JPEG":
        scale = _WORK_SIDE / longest
        image.draft("L", (max(1, int(image.width * scale)), max(1, int(image.height * scale))))
    image.load()
    factor = max(image.size) // _WORK_SIDE
    if factor >= 2:
        image = image.reduce(factor)
    return image


def _looks_like_image(data: bytes) -> bool:
    return data.startswith((b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"BM")) or (
        data[:4] == b"RIFF" and data[8:12] == b"WEBP")


def _scan(image: Image.Image, **options) -> tuple[list[str], list[tuple[int, int, int, int]]]:
    """Decoded texts, and the boxes of codes that were found but failed to decode (worth a closer look)."""
    results = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode, return_errors=True, **options)
    texts = [result.text for result in results if result.valid and result.text]
    boxes = []
    for result in results:
        if not result.valid:
            corners = (result.position.top_left, result.position.top_right,
                       result.position.bottom_right, result.position.bottom_left)
            xs, ys = [point.x for point in corners], [point.y for point in corners]
            boxes.append((min(xs), min(ys), max(xs), max(ys)))
    return texts, boxes


def _enlarge(image: Image.Image, factor: float, *, sharpen: bool = False) -> Image.Image:
    size = (max(1, int(image.width * factor)), max(1, int(image.height * factor)))
    enlarged = image.resize(size, Image.Resampling.LANCZOS)
    if sharpen:  # blurred photos: restore module edges after upscaling
        enlarged = enlarged.filter(ImageFilter.UnsharpMask(radius=2, percent=150, threshold=0))
    return enlarged


def _close_ups(gray: Image.Image, box: tuple[int, int, int, int]):
    """A code was located but not decoded: crop around it and enlarge to about 8 px per module."""
    left, top, right, bottom = box
    margin = max(right - left, bottom - top) // 2 + 8
    crop = gray.crop((max(0, left - margin), max(0, top - margin),
                      min(gray.width, right + margin), min(gray.height, bottom + margin)))
    factor = max(2.0, 480 / max(1, max(crop.size)))
    yield _enlarge(crop, factor), {}
    yield _enlarge(crop, factor, sharpen=True), {}
    yield _enlarge(crop, factor, sharpen=True), {"binarizer": zxingcpp.Binarizer.GlobalHistogram}


def _attempts(gray: Image.Image):
    """After the whole image: what rescues small, blurred or oddly lit codes, cheapest first."""
    width, height = gray.size
    if min(width, height) < 400:           # a tiny crop or thumbnail: blow it up
        yield _enlarge(gray, 3), {}
    # slips print the mini QR in the lower half, usually on the right: enlarge those regions
    for box in ((width // 2, height // 2, width, height), (0, height // 2, width, height),
                (0, 0, width, height // 2), (width // 4, height // 4, width * 3 // 4, height * 3 // 4)):
        yield _enlarge(gray.crop(box), 2), {}
    yield ImageOps.autocontrast(gray, cutoff=2), {"binarizer": zxingcpp.Binarizer.GlobalHistogram}
    yield gray.filter(ImageFilter.UnsharpMask(radius=2, percent=200, threshold=0)), {}
    for angle in (15, 30, 45):             # strong skew plus perspective
        yield gray.rotate(angle, expand=True, fillcolor=255), {}
    yield gray.resize((max(1, width // 2), max(1, height // 2)), Image.Resampling.BOX), {}
    # last resort: overlapping tiles, enlarged 3x and sharpened (small, blurred codes anywhere)
    for row in range(3):
        for column in range(3):
            left, top = column * width // 4, row * height // 4
            tile = gray.crop((left, top, left + width // 2, top + height // 2))
            yield _enlarge(tile, 3, sharpen=True), {}


def find_qr_texts(gray: Image.Image, *, deadline_seconds: float = DECODE_DEADLINE_SECONDS) -> list[str]:
    """All QR texts found, trying progressively harder variants until something decodes.

    The deadline bounds the time spent on pictures without any QR code (product photos and the like).
    """
    if max(gray.size) > _WORK_SIDE:
        gray = gray.copy()
        gray.thumbnail((_WORK_SIDE, _WORK_SIDE), Image.Resampling.BOX)
    started = time.perf_counter()
    texts, boxes = _scan(gray)
    if texts:
        return list(dict.fromkeys(texts))
    candidates = itertools.chain.from_iterable(_close_ups(gray, box) for box in boxes[:3])
    for variant, options in itertools.chain(candidates, _attempts(gray)):
        if time.perf_counter() - started > deadline_seconds:
            break
        texts, _ = _scan(variant, **options)
        if texts:
            return list(dict.fromkeys(texts))
    return []


def read_slip_image(data: bytes) -> SlipReading:
    """Read the slip QR in an image. Never raises for bad input: the reading says what was wrong."""
    try:
        gray = open_image(data)
    except ImageRejected as error:
        return SlipReading("invalid_image", reason=error.code, detail=str(error))
    return best_reading(find_qr_texts(gray))


def read_slip_text(text: str) -> SlipReading:
    """The same reading for a payload typed or pasted as text (CLI, tests, simulator)."""
    return classify_text(text.strip())


__all__ = ["SlipPayload", "SlipPayloadError", "SlipReading", "ImageRejected", "parse_slip_payload",
           "classify_text", "best_reading", "open_image", "find_qr_texts", "read_slip_image",
           "read_slip_text", "looks_like_slip", "SLIP_API_ID"]
