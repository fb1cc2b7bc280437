"""EMVCo TLV codec and CRC-16/CCITT-FALSE, shared by PromptPay payloads and slip mini-QR payloads.

Grammar: a run of ``ID (2 digits) | LEN (2 decimal digits) | VALUE``; templates nest the same grammar.
The CRC field (tag 63 for PromptPay, 91 for slips) covers everything up to and including its own
``ID LEN`` ("6304"), and is written as 4 uppercase hex digits. This module knows nothing else of ours,
so the simulator may import it.
"""
from __future__ import annotations

import binascii
import re
from dataclasses import dataclass

_TAG = re.compile(r"\d{2}")


class EmvError(ValueError):
    """A payload is not well-formed EMV TLV, or its CRC does not match."""


@dataclass(frozen=True)
class Field:
    tag: str
    value: str


def crc16(text: str) -> str:
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF) as 4 uppercase hex digits."""
    return f"{binascii.crc_hqx(text.encode('utf-8'), 0xFFFF):04X}"


def field(tag: str, value: str) -> str:
    """Encode one field; the length counts characters and must fit in two digits."""
    if not _TAG.fullmatch(tag):
        raise EmvError(f"tag must be two digits, got {tag!r}")
    if len(value) > 99:
        raise EmvError(f"tag {tag} value is {len(value)} characters; EMV allows at most 99")
    return f"{tag}{len(value):02d}{value}"


def encode(fields: list[tuple[str, str]]) -> str:
    return "".join(field(tag, value) for tag, value in fields)


def with_crc(body: str, crc_tag: str = "63") -> str:
    """Append the CRC field, computed over the body plus the CRC tag and length."""
    head = body + crc_tag + "04"
    return head + crc16(head)


def decode(text: str) -> list[Field]:
    """Split a TLV string into fields (one level). Raises EmvError on any malformed part."""
    fields: list[Field] = []
    position = 0
    while position < len(text):
        header = text[position:position + 4]
        if len(header) < 4 or not header.isdigit() or not header.isascii():
            raise EmvError(f"bad field header {header!r} at character {position}")
        tag, length = header[:2], int(header[2:])
        value = text[position + 4:position + 4 + length]
        if len(value) != length:
            raise EmvError(f"tag {tag} says {length} characters but only {len(value)} remain")
        fields.append(Field(tag, value))
        position += 4 + length
    return fields


def decode_map(text: str) -> dict[str, str]:
    """Decode into a tag -> value dict; a repeated tag is an error (EMV root tags are unique)."""
    result: dict[str, str] = {}
    for item in decode(text):
        if item.tag in result:
            raise EmvError(f"tag {item.tag} appears twice")
        result[item.tag] = item.value
    return result


def verify_crc(payload: str, crc_tag: str = "63", *, pad_short_crc: bool = False) -> str:
    """Check the CRC field that must end the payload; return the payload with a normalised CRC.

    With ``pad_short_crc`` a CRC shorter than 4 hex digits is left-padded with zeros first: some Thai
    bank apps drop the leading zeros of the slip CRC (promptparse's ``crcAutoFix`` does the same).
    Lowercase hex is accepted and normalised to uppercase.
    """
    payload = payload.strip()
    marker = crc_tag + "04"
    index = payload.rfind(marker)
    if index < 0:
        raise EmvError(f"no CRC field ({marker}…) at the end of the payload")
    given = payload[index + 4:]
    if pad_short_crc and 0 < len(given) < 4:
        given = given.rjust(4, "0")
    if len(given) != 4 or not re.fullmatch(r"[0-9A-Fa-f]{4}", given):
        raise EmvError(f"CRC must be 4 hex digits after {marker}, got {given!r}")
    head = payload[:index + 4]
    expected = crc16(head)
    if given.upper() != expected:
        raise EmvError(f"CRC mismatch: payload says {given.upper()}, computed {expected}")
    return head + expected


__all__ = ["EmvError", "Field", "crc16", "field", "encode", "with_crc", "decode", "decode_map", "verify_crc"]
