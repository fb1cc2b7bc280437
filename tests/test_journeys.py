"""`salesbot eval journeys`: journey files, the replay through the simulator, the report and pass^k.

The runs go through the real service (`bot.app.create_app` with the simulator, the tiny test
catalogue of tests/shop_data.py); the pass^k test uses a scripted turn that answers differently each
time, so counting is pinned down without depending on the agent's wording.
"""
from __future__ import annotations

import itertools
import json

import httpx
import pytest
from click.testing import CliRunner
from shop_data import seed_shop
from simulator_bot import running_service

from bot.cli import main
from shop.db import Database
from shop.models import create_all
from simulator.journey_file import JourneyFileError, load_journeys
from simulator.journeys import JourneyRunner

PROFILE = {"name": "สมหญิง ใจดี", "phone": "0812345678", "fulfilment": "pickup"}

LAST_COPY = {  # AZUL has one unit: the second run passes only if stock is put back in between
    "name": "buy-the-last-azul", "tags": ["purchase"], "profile": PROFILE,
    "steps": [
        {"say": "ขอ Azul 1 กล่องค่ะ", "expect": {"cart": {"items": [{"sku": "AZUL", "quantity": 1}]}}},
        {"auto": "checkout", "expect": {"qr": True, "order": {"status": "awaiting_payment", "fulfilment": "pickup",
                                                               "items": [{"sku": "AZUL", "quantity": 1}],
                                                               "total": "correct"}}},
        {"pay": "normal", "expect": {"order": {"status": "paid"}, "order_number": True}},
    ]}

WRONG_QUANTITY = {
    "name": "expects-three", "tags": ["cart-edit"],
    "steps": [{"say": "ขอ Ticket to Ride 1 กล่องค่ะ",
               "expect": {"cart": {"items": [{"sku": "TTR", "quantity": 3}]}, "price_of": ["TTR"]}}]}


def write(tmp_path, *journeys, name="journeys.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps({"format": "salesbot-journeys/1", "journeys": list(journeys)}, ensure_ascii=False))
    return str(path)


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    db = Database(f"sqlite:///{tmp_path_factory.mktemp('journeys') / 'shop.db'}")
    create_all(db)
    seed_shop(db)
    with running_service(db) as url, httpx.Client(base_url=url, timeout=60) as http:
        yield url, http
    db.engine.dispose()


def test_a_purchase_to_the_receipt_passes_twice_with_stock_put_back(service, tmp_path):
    _, http = service
    report = JourneyRunner(http, settle=0.1).run(load_journeys(write(tmp_path, LAST_COPY)), repeat=2)
    assert [run.passed for run in report.runs] == [True, True], report.text()
    summary = report.summary()
    assert summary["pass_rate"] == 100.0 and summary["pass_k"] == 100.0
    assert summary["tags"]["purchase"] == {"journeys": 1, "runs": 2, "passed_runs": 2, "pass_rate": 100.0,
                                           "pass_k": 100.0}
    transcript = "\n".join(report.runs[0].transcript)
    assert "customer: ขอ Azul 1 กล่องค่ะ" in transcript and "[pays the QR through the bank: normal]" in transcript


def test_a_failed_expectation_is_reported_with_its_transcript(service, tmp_path):
    _, http = service
    report = JourneyRunner(http, settle=0.1).run(load_journeys(write(tmp_path, WRONG_QUANTITY)))
    [run] = report.runs
    [failure] = run.failures
    assert failure.step.index == 1
    assert failure.problems == ["the cart has TTR ×1, expected ×3"]  # the price was shown: only the quantity fails
    text = report.text()
    assert "pass rate: 0/1 runs (0.0 %)" in text and "FAILED expects-three [cart-edit]" in text
    assert "customer: ขอ Ticket to Ride 1 กล่องค่ะ" in text and "✗ step 1: the cart has TTR ×1, expected ×3" in text


def flaky_turn():
    """Every other answer names the price: a journey checking it passes one run in two."""
    answers = itertools.cycle(["ราคา 1,750.50 บาทค่ะ", "ขออภัยค่ะ ระบบขัดข้อง"])

    def turn(db, settings, event):
        if event.get("type") != "message" or event["message"]["text"] == "เงียบ":
            return []
        return [{"type": "text", "text": "สวัสดีค่ะ" if event["message"]["text"] == "สวัสดี" else next(answers)}]

    return turn


def test_a_step_may_expect_silence(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'quiet.db'}")
    create_all(db)
    journeys = load_journeys(write(tmp_path,
                                   {"name": "quiet", "steps": [{"say": "เงียบ", "expect": {"answered": False}}]},
                                   {"name": "not-quiet", "steps": [{"say": "สวัสดี", "expect": {"answered": False}}]}))
    with running_service(db, turn=flaky_turn()) as url, httpx.Client(base_url=url, timeout=30) as http:
        quiet, loud = JourneyRunner(http, settle=0.1).run(journeys).runs
    assert quiet.passed and quiet.transcript == ["customer: เงียบ", "bot: (nothing)"]
    assert loud.failures[0].problems == ["the bot answered, but it should have stayed quiet"]
    db.engine.dispose()


def test_pass_k_counts_a_journey_only_when_every_run_passes(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'flaky.db'}")
    create_all(db)
    seed_shop(db)
    journeys = load_journeys(write(tmp_path,
                                   {"name": "steady", "tags": ["greeting"],
                                    "steps": [{"say": "สวัสดี", "expect": {"reply": {"contains": "สวัสดี"}}}]},
                                   {"name": "flaky", "tags": ["price"],
                                    "steps": [{"say": "TTR ราคาเท่าไหร่", "expect": {"price_of": ["TTR"]}}]}))
    with running_service(db, turn=flaky_turn()) as url, httpx.Client(base_url=url, timeout=30) as http:
        report = JourneyRunner(http, settle=0.1).run(journeys, repeat=4)
    summary = report.summary()
    assert (summary["runs"], summary["passed_runs"], summary["pass_rate"]) == (8, 6, 75.0)
    assert (summary["pass_k_journeys"], summary["pass_k"]) == (1, 50.0)
    assert summary["tags"]["price"]["pass_rate"] == 50.0 and summary["tags"]["price"]["pass_k"] == 0.0
    assert "pass^4: 1/2 journeys passed all 4 runs (50.0 %)" in report.text()
    assert "flaky [price] — failed 2 of 4 runs, this is run 2" in report.text()
    assert [r["passed"] for r in report.to_json()["results"]] == [[True] * 4, [True, False, True, False]]
    db.engine.dispose()


def test_the_command_against_a_running_service_prints_json_and_exits_0(service, tmp_path):
    url, _ = service
    result = CliRunner().invoke(main, ["eval", "journeys", write(tmp_path, WRONG_QUANTITY), "--url", url, "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["pass_rate"] == 0.0 and report["results"][0]["failures"][0]["step"] == 1


def test_a_product_the_shop_does_not_have_is_a_file_error(service, tmp_path):
    url, _ = service
    unknown = {"name": "typo", "steps": [{"say": "ขอ Azul", "expect": {"cart": {"items": [{"sku": "AZULL"}]}}}]}
    result = CliRunner().invoke(main, ["eval", "journeys", write(tmp_path, unknown), "--url", url])
    assert result.exit_code == 2
    assert "journey 'typo' step 1 (say: ขอ Azul): no product with SKU 'AZULL' in this shop" in result.output


@pytest.mark.parametrize("journey, message", [
    ({"name": "x", "steps": [{"say": "hi", "expect": {"cart": {"itemz": []}}}]},
     "journey 'x' step 1: expect.cart: unknown key 'itemz'"),
    ({"name": "x", "steps": [{"say": "hi", "tap": "ok"}]}, "journey 'x' step 1: needs exactly one of"),
    ({"name": "x", "steps": [{"pay": "cash"}]}, "journey 'x' step 1: pay must be one of normal"),
    ({"name": "x", "steps": [{"say": "hi", "expect": {"reply": {"regex": "("}}}]},
     "journey 'x' step 1: expect.reply.regex: not a regular expression"),
    ({"name": "x", "steps": [{"say": "hi", "expect": {"cart": {"items": [{"quantity": 2}]}}}]},
     "journey 'x' step 1: expect.cart.items[1]: needs either \"sku\" or \"card\""),
    ({"name": "x", "steps": []}, "journey 'x': needs a non-empty list of \"steps\""),
    ({"steps": [{"say": "hi"}]}, "journey 1: needs a \"name\""),
])
def test_malformed_journeys_name_the_journey_and_step(tmp_path, journey, message):
    with pytest.raises(JourneyFileError) as error:
        load_journeys(write(tmp_path, journey))
    assert message in str(error.value)


def test_the_command_exits_2_on_a_malformed_file_before_starting_anything(tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text('{"journeys": [{"name": "x", "steps": [{"say": "hi"}]},]}')
    result = CliRunner().invoke(main, ["eval", "journeys", str(broken)])
    assert result.exit_code == 2
    assert "broken.json: not valid JSON" in result.output and "line 1" in result.output


def test_the_bundled_journeys_load_and_cover_every_failure_class():
    journeys = load_journeys("tests/data/journeys")
    tags = {tag for journey in journeys for tag in journey.tags}
    assert len(journeys) >= 90
    assert {"purchase", "compound", "context", "cart-edit", "recommend", "shop-info", "social",
            "ordinary-words"} <= tags


def test_a_standalone_simulator_through_a_flask_test_client_shows_no_shop(tmp_path):
    """The runner also takes a Flask test client; a simulator without the bot's shop checks the chat only."""
    from simulator.app import create_simulator_app
    from simulator.core import SimulatorConfig

    app = create_simulator_app(SimulatorConfig(channel_secret="s", access_token="t", bot_url="http://127.0.0.1:9/callback"))
    runner = JourneyRunner(app.test_client())
    journeys = load_journeys(write(tmp_path, {"name": "cart", "steps": [
        {"say": "ขอ Azul 1 กล่อง", "expect": {"cart": {"items": [{"sku": "AZUL", "quantity": 1}]}}}]}))
    runner.prepare(journeys)  # no shop to check SKUs against: nothing to refuse
    assert runner.catalogue.products == {} and runner.api.new_chat("สมหญิง").startswith("U")
    [run] = runner.run(journeys).runs
    assert not run.passed and "the say step failed" in run.failures[0].problems[0]  # the bot is unreachable


def test_checks_read_prices_cards_and_alternatives_as_a_customer_does():
    from simulator.journey_checks import Catalogue, Check, Context, Seen

    catalogue = Catalogue({"SPL": {"sku": "SPL", "name_th": "สเพลนเดอร์", "name_en": "Splendor", "price_satang": 126000,
                                   "min_players": 2, "max_players": 4, "min_minutes": 30, "min_age": 10},
                           "TTR": {"sku": "TTR", "name_en": "Ticket to Ride", "price_satang": 175050}}, 5000)
    bubble = {"type": "bubble", "body": {"type": "box", "layout": "vertical", "contents": [
        {"type": "text", "text": "สเพลนเดอร์"}]}, "footer": {"type": "box", "layout": "vertical", "contents": [
            {"type": "button", "action": {"type": "postback", "label": "ใส่ตะกร้า", "data": "a=add&sku=SPL&q=1"}}]}}
    seen = Seen.read([{"type": "text", "text": "ราคา 1260 บาท ค่าส่ง 50.00 บาทค่ะ"},
                      {"type": "flex", "altText": "สเพลนเดอร์", "contents": bubble}], catalogue)
    check = lambda expect: Check(Context(seen, catalogue, {"cart": {"items": []}, "orders": []}, [])).run(expect)  # noqa: E731
    assert [card.sku for card in seen.product_cards] == ["SPL"]
    assert check({"price_of": ["SPL"], "delivery_fee": True, "mentions": ["SPL"], "cards": {"includes": ["SPL"]}}) == []
    assert check({"price_of": ["TTR"]}) == ["reply does not mention the price of TTR (1,750.50 baht)"]
    assert check({"cards": {"fit": {"players": 5, "age": 12}}}) == ["card SPL does not fit: 2-4 players, not 5"]
    assert check({"reply": {"contains": "ราคา 1,260"}, "cart": {"empty": True}, "order": None}) == []
    assert check({"any": [{"cards": False}, {"reply": {"any_of": ["1,260"]}}]}) == []
    assert check({"price_of": [{"card": 1}]}) == ["card 1 was referred to, but only 0 product card(s) were shown "
                                                   "before this step"]


def test_the_shop_view_sets_stock_and_refuses_what_it_cannot(service):
    _, http = service
    assert http.post("/sim/api/shop/stock", json={"stock": {"TTR": 7}}).json() == {"stock": {"TTR": 7}}
    products = {p["sku"]: p for p in http.get("/sim/api/shop").json()["products"]}
    assert products["TTR"]["stock"] == 7 and products["TTR"]["price_satang"] == 175050
    for body, message in [({"stock": {"NOPE": 1}}, "no product with SKU NOPE"),
                          ({"stock": {"TTR": -1}}, "stock of 'TTR' must be a whole number of at least 0"),
                          ({"stock": {}}, 'send {"stock"')]:
        answer = http.post("/sim/api/shop/stock", json=body)
        assert answer.status_code == 400 and message in answer.json()["message"]
    http.post("/sim/api/shop/stock", json={"stock": {"TTR": 10}})
    assert http.get("/sim/api/chats/nobody-yet/shop").json() == {
        "cart": {"items": [], "item_count": 0, "total_satang": 0}, "orders": []}
