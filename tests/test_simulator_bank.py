"""The simulated bank: PromptPay QR reading, slip payloads, slip images, and the verify API contract
shared with the payments `simulator` provider."""
from __future__ import annotations

import io
import re
from datetime import datetime
from decimal import Decimal

import pytest
import qrcode
from PIL import Image
from simulator_bot import promptpay_payload

from payments.emv import decode_map, verify_crc
from simulator.app import create_simulator_app
from simulator.bank import (
    Bank,
    BankError,
    PromptPayQR,
    find_promptpay,
    mask_account,
    paid_amount,
    parse_promptpay,
    parse_slip_payload,
    read_qr_codes,
    render_slip,
    slip_payload,
    thai_datetime,
)
from simulator.core import SimulatorConfig

QR = PromptPayQR(payload="", target="0812345678", amount_satang=126_000)


def test_slip_payload_follows_the_slip_verify_spec():
    payload = slip_payload("004", "015330143917BTF06543")
    verify_crc(payload, "91")
    root = decode_map(payload)
    assert root["51"] == "TH" and list(root) == ["00", "51", "91"]
    assert decode_map(root["00"]) == {"00": "000001", "01": "004", "02": "015330143917BTF06543"}
    assert parse_slip_payload(payload) == ("004", "015330143917BTF06543")


def test_slip_payload_parser_rejects_bad_crc_and_accepts_a_crc_without_leading_zeros():
    payload = slip_payload("004", "REF1")
    with pytest.raises(ValueError):
        parse_slip_payload(payload[:-1] + ("0" if payload[-1] != "0" else "1"))
    with pytest.raises(ValueError):
        parse_slip_payload(promptpay_payload(Decimal("10")))
    ref = next(r for r in (f"REF{i}" for i in range(500)) if slip_payload("004", r)[-4] == "0")
    short = slip_payload("004", ref)
    assert parse_slip_payload(short[:-4] + short[-3:]) == ("004", ref)


def test_promptpay_payload_is_read_back_from_a_qr_image():
    payload = promptpay_payload(Decimal("1260.00"))
    out = io.BytesIO()
    qrcode.make(payload).save(out, format="PNG")
    qr = find_promptpay(out.getvalue())
    assert qr == PromptPayQR(payload=payload, target="0812345678", amount_satang=126_000)
    with pytest.raises(ValueError):
        parse_promptpay(slip_payload("004", "X"))


def test_paid_amount_modes():
    assert paid_amount("normal", 126_000, None) == 126_000
    assert paid_amount("normal", 126_000, 100_000) == 100_000
    assert paid_amount("wrong_amount", 126_000, None) == 116_000
    assert paid_amount("wrong_amount", 10_000, None) == 5_000
    with pytest.raises(BankError):
        paid_amount("normal", None, None)


def test_rendered_slip_carries_a_readable_mini_qr():
    bank = Bank("ร้านทดสอบ")
    transfer = bank.transfer(user_id="U1", sender_name="สมชาย ใจดี", qr=QR, mode="normal")
    png = render_slip(transfer)
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.size == (720, 1080)
    assert parse_slip_payload(read_qr_codes(png)[0]) == ("004", transfer.trans_ref)


def test_thai_datetime_uses_buddhist_year():
    assert thai_datetime(datetime(2026, 11, 26, 14, 3)) == "26 พ.ย. 69 14:03 น."
    assert mask_account("0812345678") == "xxx-xxx-5678"


@pytest.fixture
def sim():
    app = create_simulator_app(SimulatorConfig(channel_secret="s", access_token="t", shop_name="ร้านเกมดี"))
    return app, app.extensions["salesbot.simulator"]


def verify(app, payload):
    response = app.test_client().post("/sim/bank/api/verify", json={"qr_payload": payload})
    return response.status_code, response.json


def test_verify_contract_for_a_normal_transfer(sim):
    app, simulator = sim
    transfer = simulator.bank.transfer(user_id="U1", sender_name="มานี มีนา", qr=QR, mode="normal")
    status, body = verify(app, transfer.payload)
    assert status == 200 and body["success"] is True
    data = body["data"]
    assert data == {
        "transRef": transfer.trans_ref, "sendingBank": "004", "receivingBank": "014", "amount": "1260.00",
        "transDate": data["transDate"], "sender": {"name": "มานี มีนา"},
        "receiver": {"name": "ร้านเกมดี", "account": "xxx-xxx-5678", "promptpayId": "xxx-xxx-5678"}}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+07:00", data["transDate"])


def test_verify_failure_cases(sim):
    app, simulator = sim
    wrong = simulator.bank.transfer(user_id="U1", sender_name="a", qr=QR, mode="wrong_amount")
    assert verify(app, wrong.payload)[1]["data"]["amount"] == "1160.00"
    unknown = simulator.bank.transfer(user_id="U1", sender_name="a", qr=QR, mode="unknown_ref")
    status, body = verify(app, unknown.payload)
    assert status == 404 and body["success"] is False and body["code"] == "not_found" and body["message"]
    down = simulator.bank.transfer(user_id="U1", sender_name="a", qr=QR, mode="provider_down")
    status, body = verify(app, down.payload)
    assert (status, body["success"], body["code"]) == (503, False, "bank_down")
    app.test_client().post(f"/sim/api/bank/transfers/{down.trans_ref}/provider", json={"down": False})
    assert verify(app, down.payload)[0] == 200
    assert simulator.bank.transfer(user_id="U1", sender_name="a", qr=QR, mode="reuse") is down
    with pytest.raises(BankError):
        simulator.bank.transfer(user_id="U2", sender_name="b", qr=QR, mode="reuse")
    assert verify(app, "not a payload")[0] == 400
    assert verify(app, None)[0] == 400


def test_the_payments_simulator_provider_reads_the_verify_api():
    """The contract shared with payments/providers/simulator.py, exercised over HTTP."""
    from simulator_bot import ServerThread

    from payments.providers import ProviderUnavailable, get_provider
    from shop.settings import load_settings

    app = create_simulator_app(SimulatorConfig(channel_secret="s", access_token="t", shop_name="ร้านเกมดี"))
    bank = app.extensions["salesbot.simulator"].bank
    normal = bank.transfer(user_id="U1", sender_name="มานี มีนา", qr=QR, mode="normal")
    unknown = bank.transfer(user_id="U1", sender_name="มานี มีนา", qr=QR, mode="unknown_ref")
    down = bank.transfer(user_id="U1", sender_name="มานี มีนา", qr=QR, mode="provider_down")
    with ServerThread(app) as server:
        settings = load_settings(app_env="test", slip_provider="simulator",
                                 slip_provider_base_url=server.url + "/sim/bank/api")
        provider = get_provider(settings, sleep=lambda seconds: None)
        try:
            found = provider.verify(normal.payload)
            assert found.found and found.amount_satang == 126_000 and found.trans_ref == normal.trans_ref
            assert found.receiver_name == "ร้านเกมดี" and found.receiver_proxy == "xxx-xxx-5678"
            assert found.transferred_at.utcoffset().total_seconds() == 7 * 3600
            missing = provider.verify(unknown.payload)
            assert not missing.found and missing.reason == "not_found"
            with pytest.raises(ProviderUnavailable):
                provider.verify(down.payload)
        finally:
            provider.close()
