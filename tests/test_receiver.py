"""Slips are paid to the shop only: every receiver field the slip carries must match, and anything
uncertain goes to staff (needs_review), never to paid. Issue 11, item 2."""
from __future__ import annotations

import pytest
from fake_slip_provider import FakeProvider
from slip_images import slip_payload
from test_payment_checks import NOW, add_order, pay_through_the_simulated_bank, state

from payments.checks import check_slip
from payments.receiver import check_receiver, names_match
from shop.models import OrderStatus, SlipOutcome
from shop.settings import ConfigError, load_settings

SHOP = dict(_env_file=None, app_env="test", promptpay_id="0812345678", shop_name="ร้านบอร์ดเกมตัวอย่าง",
            slip_provider="simulator")


def settings_with(**overrides):
    return load_settings(**{**SHOP, **overrides})


def test_the_shops_own_account_is_paid(any_db):
    result, order_id = pay_through_the_simulated_bank(any_db, settings_with(), target="0812345678")
    assert result.outcome == SlipOutcome.PAID
    assert state(any_db, order_id)[0] == OrderStatus.PAID.value


def test_an_account_ending_in_the_same_digits_is_not_paid(any_db):
    """The attack: pay yourself into a PromptPay number ending like the shop's; the bank masks both to
    xxx-xxx-5678 but prints the real owner's name."""
    result, order_id = pay_through_the_simulated_bank(any_db, settings_with(), target="0899995678",
                                                      receiver_name="นาย คนอื่น ใ.")
    assert (result.outcome, result.reason) == (SlipOutcome.NEEDS_REVIEW, "receiver_unverified")
    status, _, _, payments = state(any_db, order_id)
    assert status == OrderStatus.NEEDS_REVIEW.value and payments == []


@pytest.mark.parametrize("fields", [
    {"receiver_proxy": "xxx-xxx-x678"},                                   # three digits prove nothing
    {"receiver_name": ""},                                                # digits alone, no name to compare
    {"receiver_name": "", "receiver_name_en": "BOARDGAME CO LTD"},        # only a name in another script
    {"receiver_proxy": "", "receiver_account": "", "receiving_bank": "014"},  # nothing but bank and name
])
def test_uncertain_receivers_go_to_staff(any_db, fields):
    customer_id, order_id = add_order(any_db)
    result = check_slip(any_db, settings_with(), customer_id=customer_id, order_id=order_id,
                        payload=slip_payload("004", "016330142045BPM05678"), now=NOW,
                        provider=FakeProvider(**fields))
    assert (result.outcome, result.reason) == (SlipOutcome.NEEDS_REVIEW, "receiver_unverified")
    assert state(any_db, order_id)[3] == []


def test_every_carried_field_must_match():
    settings = settings_with(shop_account_bank="004", shop_account_last_digits="8695",
                             shop_account_name="บจก. บอร์ดเกมตัวอย่าง", shop_account_name_en="Boardgame Tuayang Co., Ltd.")
    good = dict(receiving_bank="004", account="xxx-x-x8695-x", proxy="xxx-xxx-5678",
                names=["บริษัท บอร์ดเกมตัวอย่าง จำกัด", "BOARDGAME TUAYANG CO.,LTD."])
    assert check_receiver(settings, **good).verdict == "shop"
    assert check_receiver(settings, **{**good, "names": ["", "BOARDGAME TUAYANG CO.,LTD."]}).verdict == "shop"
    assert check_receiver(settings, **{**good, "receiving_bank": "014"}).verdict == "unsure"
    assert check_receiver(settings, **{**good, "account": "xxx-x-x1111-x"}).verdict == "unsure"  # proxy still fits
    assert check_receiver(settings, **{**good, "account": "xxx-x-x1111-x", "proxy": ""}).verdict == "not_shop"
    assert check_receiver(settings, **{**good, "names": ["นาย สมชาย ใ.", "SOMCHAI J"]}).verdict == "unsure"
    # one form right and the other wrong is a contradiction, not a match
    assert check_receiver(settings, **{**good, "names": ["บจก. บอร์ดเกมตัวอย่าง", "SOMCHAI J"]}).verdict == "unsure"


@pytest.mark.parametrize("slip, shop, expected", [
    ("SOMCHAI J", "Somchai Jaidee", True),
    ("นาย สมชาย ใ", "นาย สมชาย ใจดี", True),
    ("นาย สมชาย จ.", "สมชาย ใจดี", True),               # initial written without the leading vowel
    ("นายสมชาย ใจดี", "สมชาย ใจดี", True),
    ("MR SOMCHAI JAIDEE", "Somchai Jaidee", True),
    ("บริษัท บอร์ดเกม จำกัด", "บจก. บอร์ดเกม", True),     # company forms
    ("BOARDGAME CO.,LTD.", "Boardgame Co., Ltd.", True),
    ("บอร์ดเกม ตัวอย่าง", "บอร์ดเกมตัวอย่าง", True),      # spacing
    ("ร้านบอร์ดเกมตัวอ", "ร้านบอร์ดเกมตัวอย่าง", True),   # cut short by the bank
    ("MR. SOMEONE E", "Somchai Jaidee", False),
    ("สมชาย ร.", "สมชาย ใจดี", False),                    # another surname
    ("สมชาย", "สมชาย ใจดี", False),                       # a given name alone proves little
    ("ร้าน", "ร้านบอร์ดเกมตัวอย่าง", False),              # too short to mean anything
    ("BOARD X", "Board Game Tuayang", False),
    ("BOARDGAME", "บจก. บอร์ดเกม", None),                 # Thai and English are never compared
    ("", "x", None),
])
def test_names_are_compared_sensibly(slip, shop, expected):
    assert names_match(slip, shop) is expected


def test_too_few_account_digits_are_refused_at_start_up():
    with pytest.raises(ConfigError, match="^SHOP_ACCOUNT_LAST_DIGITS: give at least 4 digits"):
        settings_with(shop_account_last_digits="695")
