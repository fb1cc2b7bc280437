"""Thai bank codes as they appear in slip mini-QR payloads and verification API responses.

Source: EasySlip "bank-codes" reference page, plus 035 and 098 from the SlipOK SDK list
(see docs/payments.md). TTB is 011 in these APIs, not the 076 some payment-gateway lists use.
"""
from __future__ import annotations

BANKS: dict[str, str] = {
    "002": "BBL", "004": "KBANK", "006": "KTB", "011": "TTB", "014": "SCB", "017": "CITI",
    "020": "SCBT", "022": "CIMBT", "024": "UOBT", "025": "BAY", "030": "GSB", "033": "GHB",
    "034": "BAAC", "035": "EXIM", "039": "MHCB", "045": "BNPP", "052": "BOC", "065": "TBANK",
    "066": "ISBT", "067": "TISCO", "069": "KKP", "070": "ICBC", "071": "TCD", "073": "LHFG",
    "098": "SME",
}

BANK_NAMES_TH: dict[str, str] = {
    "002": "ธนาคารกรุงเทพ", "004": "ธนาคารกสิกรไทย", "006": "ธนาคารกรุงไทย", "011": "ธนาคารทหารไทยธนชาต",
    "014": "ธนาคารไทยพาณิชย์", "025": "ธนาคารกรุงศรีอยุธยา", "030": "ธนาคารออมสิน",
    "033": "ธนาคารอาคารสงเคราะห์", "034": "ธ.ก.ส.", "069": "ธนาคารเกียรตินาคินภัทร",
}


def is_known_bank(code: str) -> bool:
    return code in BANKS


def bank_label(code: str) -> str:
    """Short label for staff and logs: '004 KBANK'; unknown codes are shown as they are."""
    short = BANKS.get(code)
    return f"{code} {short}" if short else code
