"""Provider adapters against httpx.MockTransport, with answers shaped like each provider's published
responses (tests/fixtures/providers/*.json; every file names its source in "_source")."""
from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from payments.providers import BANGKOK, ProviderUnavailable, get_provider
from payments.providers.base import (
    ACCOUNT_PROBLEM,
    AML_FLAGGED,
    FLAG_DUPLICATE,
    FLAG_RECEIVER_MISMATCH,
    INVALID_QR,
    NOT_FOUND,
    QUOTA_EXCEEDED,
)
from shop.settings import load_settings

FIXTURES = Path(__file__).parent / "fixtures" / "providers"
PAYLOAD = "0041000600000101030040220016330142045BPM056785102TH91048A0A"


def case(provider: str, name: str) -> tuple[int, dict]:
    data = json.loads((FIXTURES / f"{provider}.json").read_text(encoding="utf-8"))
    entry = data["cases"][name]
    return entry["status"], entry["body"]


class Bank:
    """A scripted provider: answers in order (the last repeats), records every request."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers[min(len(self.requests), len(self.answers)) - 1]
        if isinstance(answer, Exception):
            raise answer
        status, body = answer
        return httpx.Response(status, json=body)


def make(provider_name: str, bank: Bank, **settings):
    defaults = {"simulator": {}, "openslipverify": {"slip_provider_api_key": "osv-secret"},
                "slipok": {"slip_provider_api_key": "ok-secret", "slipok_branch_id": "740"},
                "easyslip": {"slip_provider_api_key": "es-secret"}}[provider_name]
    config = load_settings(_env_file=None, app_env="test", slip_provider=provider_name, **defaults, **settings)
    sleeps: list[float] = []
    provider = get_provider(config, client=httpx.Client(transport=httpx.MockTransport(bank)), sleep=sleeps.append)
    return provider, sleeps


# --- simulator (the contract shared with simulator/) -----------------------------------------------

def test_simulator_success_maps_every_field():
    bank = Bank(case("simulator", "success"))
    provider, _ = make("simulator", bank, public_base_url="http://127.0.0.1:8000")
    result = provider.verify(PAYLOAD, None)
    request = bank.requests[0]
    assert str(request.url) == "http://127.0.0.1:8000/sim/bank/api/verify"
    assert json.loads(request.content) == {"qr_payload": PAYLOAD}
    assert result.found and result.amount_satang == 126000 and result.trans_ref == "016330142045BPM05678"
    assert result.transferred_at == datetime(2026, 11, 26, 14, 3, tzinfo=BANGKOK)
    assert (result.sending_bank, result.receiving_bank) == ("004", "014")
    assert result.receiver_name == "ร้านบอร์ดเกมตัวอย่าง" and result.receiver_proxy == "xxx-xxx-5678"
    assert result.sender_name == "นาย ทดสอบ ใจดี" and result.raw["success"] is True


def test_simulator_base_url_setting_wins():
    bank = Bank(case("simulator", "success"))
    provider, _ = make("simulator", bank, slip_provider_base_url="http://bank.test/api/")
    provider.verify(PAYLOAD, None)
    assert str(bank.requests[0].url) == "http://bank.test/api/verify"


def test_simulator_not_found_is_definite_and_not_retried():
    bank = Bank(case("simulator", "not_found"))
    provider, sleeps = make("simulator", bank)
    result = provider.verify(PAYLOAD, None)
    assert not result.found and result.reason == NOT_FOUND
    assert len(bank.requests) == 1 and sleeps == []


def test_simulator_invalid_payload_is_definite():
    bank = Bank(case("simulator", "invalid_payload"))
    provider, _ = make("simulator", bank)
    result = provider.verify(PAYLOAD, None)
    assert not result.found and result.reason == INVALID_QR and len(bank.requests) == 1


def test_simulator_bank_down_is_retried_with_bounded_backoff_then_unavailable():
    bank = Bank(case("simulator", "bank_down"))
    provider, sleeps = make("simulator", bank)
    with pytest.raises(ProviderUnavailable):
        provider.verify(PAYLOAD, None)
    assert len(bank.requests) == 3 and sleeps == [0.5, 1.0]


def test_transient_then_success():
    bank = Bank(case("simulator", "bank_down"), httpx.ConnectError("refused"), case("simulator", "success"))
    provider, sleeps = make("simulator", bank)
    assert provider.verify(PAYLOAD, None).found
    assert len(bank.requests) == 3


@pytest.mark.parametrize("failure", [httpx.ConnectError("refused"), httpx.ReadTimeout("slow")])
def test_connection_errors_become_unavailable(failure):
    provider, _ = make("simulator", Bank(failure))
    with pytest.raises(ProviderUnavailable):
        provider.verify(PAYLOAD, None)


def test_non_json_5xx_is_transient():
    def handler(request):
        return httpx.Response(502, text="<html>Bad Gateway</html>")
    config = load_settings(_env_file=None, app_env="test", slip_provider="simulator")
    provider = get_provider(config, client=httpx.Client(transport=httpx.MockTransport(handler)), sleep=lambda s: None)
    with pytest.raises(ProviderUnavailable):
        provider.verify(PAYLOAD, None)


# --- OpenSlipVerify ------------------------------------------------------------------------------

def test_openslipverify_success_and_request_shape():
    bank = Bank(case("openslipverify", "success"))
    provider, _ = make("openslipverify", bank)
    result = provider.verify(PAYLOAD, None, amount_satang=126000)
    sent = json.loads(bank.requests[0].content)
    assert sent == {"refNbr": PAYLOAD, "token": "osv-secret", "amount": "1260.00"}
    assert str(bank.requests[0].url) == "https://api.openslipverify.com/"
    assert result.found and result.amount_satang == 126000
    assert result.transferred_at == datetime(2026, 11, 26, 14, 3, tzinfo=BANGKOK)  # HH:mm form
    assert result.receiver_account == "xxx-x-x8695-x" and result.receiver_proxy == "xxx-xxx-5678"
    assert "osv-secret" not in json.dumps(result.raw)


@pytest.mark.parametrize("name, reason", [("not_found", NOT_FOUND), ("bad_format", INVALID_QR),
                                          ("quota", QUOTA_EXCEEDED), ("aml", AML_FLAGGED)])
def test_openslipverify_failures(name, reason):
    bank = Bank(case("openslipverify", name))
    provider, sleeps = make("openslipverify", bank)
    result = provider.verify(PAYLOAD, None, amount_satang=126000)
    assert not result.found and result.reason == reason and len(bank.requests) == 1


def test_openslipverify_bank_down_is_transient():
    bank = Bank(case("openslipverify", "bank_down"))
    provider, _ = make("openslipverify", bank)
    with pytest.raises(ProviderUnavailable):
        provider.verify(PAYLOAD, None)
    assert len(bank.requests) == 3


# --- SlipOK ----------------------------------------------------------------------------------------

def test_slipok_success_and_request_shape():
    bank = Bank(case("slipok", "success"))
    provider, _ = make("slipok", bank)
    result = provider.verify(PAYLOAD, None, amount_satang=126050)
    request = bank.requests[0]
    assert str(request.url) == "https://api.slipok.com/api/line/apikey/740"
    assert request.headers["x-authorization"] == "ok-secret"
    assert json.loads(request.content) == {"data": PAYLOAD, "log": True}
    assert result.found and not result.flags and result.amount_satang == 126050
    # docs example: 20200401 10:15:07 Bangkok == 2020-04-01T03:15:07Z
    assert result.transferred_at == datetime(2020, 4, 1, 10, 15, 7, tzinfo=BANGKOK)
    assert (result.sending_bank, result.receiving_bank) == ("004", "006")
    assert result.receiver_account == "xxx-x-x8695-x" and result.sender_name == "นาย กสิกร ร"


@pytest.mark.parametrize("name, flag", [("duplicate_1012", FLAG_DUPLICATE), ("wrong_receiver_1014", FLAG_RECEIVER_MISMATCH)])
def test_slipok_codes_with_data_are_flags_never_plain_success(name, flag):
    provider, _ = make("slipok", Bank(case("slipok", name)))
    result = provider.verify(PAYLOAD, None)
    assert result.found and flag in result.flags and result.amount_satang == 126050


@pytest.mark.parametrize("name, reason", [("not_found_1011", NOT_FOUND), ("bad_auth_1002", ACCOUNT_PROBLEM),
                                          ("quota_1004", QUOTA_EXCEEDED), ("not_slip_1008", INVALID_QR)])
def test_slipok_definite_errors(name, reason):
    bank = Bank(case("slipok", name))
    provider, sleeps = make("slipok", bank)
    result = provider.verify(PAYLOAD, None)
    assert not result.found and result.reason == reason and len(bank.requests) == 1 and sleeps == []


@pytest.mark.parametrize("name, retry_after", [("bank_down_1009", 900), ("delay_1010", 300)])
def test_slipok_bank_down_and_delay_are_pending_with_hint(name, retry_after):
    bank = Bank(case("slipok", name))
    provider, sleeps = make("slipok", bank)
    with pytest.raises(ProviderUnavailable) as error:
        provider.verify(PAYLOAD, None)
    assert error.value.retry_after == retry_after
    assert len(bank.requests) == 1  # a 5-15 minute hint is not waited out inline


# --- EasySlip v2 -----------------------------------------------------------------------------------

def test_easyslip_success_and_request_shape():
    bank = Bank(case("easyslip", "success"))
    provider, _ = make("easyslip", bank)
    result = provider.verify(PAYLOAD, None)
    request = bank.requests[0]
    assert str(request.url) == "https://api.easyslip.com/v2/verify/bank"
    assert request.headers["authorization"] == "Bearer es-secret"
    assert json.loads(request.content) == {"payload": PAYLOAD, "checkDuplicate": True}
    assert result.found and not result.flags and result.amount_satang == 126000
    assert result.transferred_at == datetime(2026, 11, 26, 14, 3, tzinfo=BANGKOK)
    assert (result.sending_bank, result.receiving_bank) == ("004", "014")
    assert result.receiver_name == "ร้านบอร์ดเกมตัวอย่าง" and result.receiver_proxy == "xxx-xxx-5678"


def test_easyslip_duplicate_is_a_flag():
    provider, _ = make("easyslip", Bank(case("easyslip", "duplicate")))
    result = provider.verify(PAYLOAD, None)
    assert result.found and FLAG_DUPLICATE in result.flags


@pytest.mark.parametrize("name, reason", [("not_found", NOT_FOUND), ("invalid_key", ACCOUNT_PROBLEM),
                                          ("quota", QUOTA_EXCEEDED), ("validation", INVALID_QR)])
def test_easyslip_errors(name, reason):
    bank = Bank(case("easyslip", name))
    provider, _ = make("easyslip", bank)
    result = provider.verify(PAYLOAD, None)
    assert not result.found and result.reason == reason and len(bank.requests) == 1


def test_easyslip_server_error_is_retried():
    bank = Bank(case("easyslip", "server_error"), case("easyslip", "success"))
    provider, sleeps = make("easyslip", bank)
    assert provider.verify(PAYLOAD, None).found and sleeps == [0.5]


def test_keys_are_required_for_real_providers():
    from shop.settings import ConfigError

    with pytest.raises(ConfigError, match="SLIP_PROVIDER_API_KEY"):
        load_settings(_env_file=None, app_env="test", slip_provider="easyslip")
    with pytest.raises(ConfigError, match="SLIPOK_BRANCH_ID"):
        load_settings(_env_file=None, app_env="test", slip_provider="slipok", slip_provider_api_key="k")


def test_none_provider_refers_to_staff():
    config = load_settings(_env_file=None, app_env="test", slip_provider="none")
    result = get_provider(config).verify(PAYLOAD, None)
    assert not result.found and result.reason == "no_provider"
