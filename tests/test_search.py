"""The one product search: Thai, English, transliterations, typos, descriptions, filters, odd input, CLI."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from shop.models.catalog import Game, Product, ProductAlias
from shop.search import SearchFilters, SearchHit, search
from shop.text import MAX_QUERY_CHARS, normalize


@pytest.fixture
def session(catalog_db):
    with catalog_db.session() as session:
        yield session


def top(session, query: str, **kwargs) -> SearchHit:
    hits = search(session, query, **kwargs)
    assert hits, f"no hit for {query!r}"
    return hits[0]


@pytest.mark.parametrize("query, sku", [
    ("เกมค้าเพชร", "splendor"),                   # Thai title
    ("ปีกปักษา", "wingspan"),
    ("เกมต่อรถไฟ", "ticket-to-ride"),
    ("สเปลนเดอร์", "splendor"),                   # Thai-script transliteration of the English name
    ("วิงสแปน", "wingspan"),
    ("แพนเดมิก", "pandemic"),
    ("สแปลนเดอ", "splendor"),                     # a transliteration that is in no alias
    ("ซอมบี้คิด", "zombie-kidz"),
    ("splender", "splendor"),                     # misspellings
    ("ปีกปักสา", "wingspan"),
    ("เกมค้าเพรช", "splendor"),
    ("kign of tokyo", "king-of-tokyo"),
    ("Ticket to Ride", "ticket-to-ride"),         # English
    ("TICKET TO RIDE NEW YORK", "ticket-to-ride-new-york"),
    ("spot it", "dobble"),                        # another market's title
    ("แมวระเบิด", "exploding-kitten"),             # colloquial
    ("onuw", "one-night-ultimate-werewolf"),      # short name
    ("มี splendor ไหม", "splendor"),               # name inside a request
    ("มีสเปลนเดอร์ไหมคะ", "splendor"),
    ("ราคา ticket to ride เท่าไหร่คะ", "ticket-to-ride"),
    ("ขอดูเกมค้าเพชรหน่อย", "splendor"),
    ("power grid ภาษาไทย", "power-grid"),         # mixed Thai/Latin
    ("7 สิ่งมหัศจรรย์", "7-wonders"),
    ("๗ สิ่งมหัศจรรย์", "7-wonders"),              # Thai digits
])
def test_names_in_any_script_find_the_product(session, query, sku):
    hit = top(session, query)
    assert (hit.kind, hit.sku) == ("product", sku)


def test_a_product_hit_carries_price_stock_and_facts(session):
    hit = top(session, "splendor")
    assert hit.price_satang == 126000 and hit.product_id is not None and hit.game_id == 148228
    assert (hit.min_players, hit.max_players, hit.min_minutes, hit.max_minutes, hit.min_age) == (2, 4, 30, 30, 10)
    data = hit.to_json()
    assert data["price_thb"] == "1260.00" and data["sku"] == "splendor" and data["name_th"] == "เกมค้าเพชร"
    assert data["kind"] == "product" and data["in_stock"] == (hit.stock > 0) and 0 < data["score"] <= 1
    json.dumps(data)  # plain JSON types only


def test_missing_shop_facts_come_from_the_linked_game(session):
    hit = next(h for h in search(session, "bloodbound") if h.sku == "bloodbound")
    assert (hit.min_players, hit.max_players) == (6, 12)  # the shop lists none; BGG's Blood Bound does


def test_games_the_shop_does_not_sell_are_marked_and_rank_below_products(session):
    catan = top(session, "catan")
    assert (catan.kind, catan.game_id, catan.sku, catan.price_satang, catan.in_stock) == ("game", 13, None, None, False)
    assert top(session, "ราคา catan เท่าไหร่").game_id == 13
    assert top(session, "คาทาน").game_id == 13  # Thai transliteration of a game the shop lacks
    hits = search(session, "terraforming mars")
    kinds = [h.kind for h in hits]
    assert kinds[0] == "product" and "game" in kinds
    assert kinds == sorted(kinds, key=lambda k: k != "product")  # every product before every game
    assert 167791 in {h.game_id for h in hits if h.kind == "game"}


def test_a_game_the_shop_sells_is_never_listed_again_as_a_game(session):
    hits = search(session, "splendor", limit=20)
    assert all(h.game_id != 148228 for h in hits if h.kind == "game")
    assert any(h.kind == "game" and h.name_en == "Splendor: Marvel" for h in hits)


def test_descriptive_query_finds_party_games_for_many_players(session):
    hits = search(session, "เกมปาร์ตี้เล่นกันหลายคน", limit=5)
    assert len(hits) == 5
    for hit in hits:
        product = session.get(Product, hit.product_id)
        assert hit.kind == "product" and "ปาร์ตี้" in product.category_th and hit.max_players >= 6


def test_descriptive_query_in_english_for_two_players(session):
    hits = search(session, "a game for two players", limit=5)
    assert hits and all(h.min_players <= 2 <= h.max_players for h in hits if h.kind == "product")
    assert top(session, "เกมเล่นสองคน").max_players == 2


def test_filters_are_hard_limits(session):
    checks = {
        SearchFilters(players=6): lambda h: h.min_players <= 6 <= h.max_players,
        SearchFilters(max_minutes=20): lambda h: h.max_minutes is not None and h.max_minutes <= 20,
        SearchFilters(age=6): lambda h: h.min_age is not None and h.min_age <= 6,
        SearchFilters(min_price_satang=100000, max_price_satang=150000): lambda h: 100000 <= h.price_satang <= 150000,
        SearchFilters(in_stock=True): lambda h: h.kind == "product" and h.stock > 0,
        SearchFilters(include_games=False): lambda h: h.kind == "product",
    }
    for filters, ok in checks.items():
        for query in ("", "เกมปาร์ตี้", "catan", "splendor"):
            hits = search(session, query, filters, limit=20)
            assert all(ok(h) for h in hits), (filters, query, [h.sku or h.game_id for h in hits if not ok(h)])
    assert search(session, "", SearchFilters(players=6), limit=20)


def test_category_filter_accepts_thai_and_english_words(session):
    thai = search(session, "", SearchFilters(category="ปาร์ตี้", include_games=False), limit=50)
    english = search(session, "", SearchFilters(category="party", include_games=False), limit=50)
    assert [h.sku for h in thai] == [h.sku for h in english] and len(thai) >= 20
    assert all("ปาร์ตี้" in session.get(Product, h.product_id).category_th for h in thai)
    family = search(session, "", SearchFilters(category="ครอบครัว"), limit=50)
    assert family and all(h.kind == "product" for h in family[:40])
    assert search(session, "", SearchFilters(category="ไม่มีหมวดนี้")) == []


def test_empty_query_with_filters_recommends_products_then_games(session):
    hits = search(session, "", SearchFilters(players=7, max_minutes=30), limit=50)
    kinds = [h.kind for h in hits]
    assert kinds[0] == "product" and "game" in kinds and kinds == sorted(kinds, key=lambda k: k != "product")
    products = [h for h in hits if h.kind == "product"]
    assert products == sorted(products, key=lambda h: -h.score)


def test_a_sold_out_product_is_still_found_but_marked(session):
    sold_out = session.query(Product).filter(Product.stock == 0, Product.listing_tag == "").first()
    hit = top(session, sold_out.name_en)
    assert hit.sku == sold_out.sku and not hit.in_stock and hit.stock == 0
    assert sold_out.sku not in {h.sku for h in search(session, sold_out.name_en, SearchFilters(in_stock=True))}


@pytest.mark.parametrize("query", [
    "", "   \n\t ", "a" * 10_000, "สเปลนเดอร์" * 2_000, "😀😀😀", "🎲", "splendor๑๒๓ abc 42", "๑๒๓",
    "'; DROP TABLE products; --", "%_%' OR 1=1 --", "\x00\x01", "ก", "?", "a",
])
def test_bad_input_gives_a_list_and_never_raises(session, query):
    hits = search(session, query)
    assert isinstance(hits, list) and all(isinstance(h, SearchHit) for h in hits)
    assert session.query(Product).count() == 135  # nothing was executed from the text


def test_empty_query_without_filters_is_an_empty_list(session):
    assert search(session, "") == [] and search(session, "   ") == [] and search(session, "😀") == []


@pytest.mark.parametrize("query", ["สวัสดีค่ะ", "ขอบคุณค่ะ", "มีไหมคะ", "ราคาเท่าไหร่", "ok", "555", "บอร์ดเกม"])
def test_greetings_and_request_words_alone_ask_for_nothing(session, query):
    assert search(session, query) == []


def test_greeting_around_a_name_still_finds_it(session):
    assert top(session, "สวัสดีค่ะ มี splendor ไหม").sku == "splendor"
    assert top(session, "คู").sku == "coup"  # a two-letter Thai alias is a name


def test_long_queries_are_capped_and_limit_is_clamped(session):
    assert len(normalize("splendor " * 5_000)) <= MAX_QUERY_CHARS
    assert top(session, "splendor " + "x" * 9_000).sku == "splendor"
    assert top(session, "สวัสดีค่ะ อยากได้เกมค้าเพชรหนึ่งกล่อง ส่งกรุงเทพได้ไหมคะ").sku == "splendor"
    assert top(session, "hello, do you sell catan? my friends want to play it this weekend").game_id == 13
    assert len(search(session, "", SearchFilters(players=4), limit=1_000)) == 50
    assert len(search(session, "splendor", limit=0)) >= 1


def test_index_follows_catalogue_changes(db):
    """A new product is searchable straight away; a catalogue without games still works."""
    with db.session() as session:
        session.add(Product(sku="moon-cake", name_en="Moon Cake Party", name_th="ขนมไหว้พระจันทร์", list_price_satang=50000,
                            stock=3, min_players=2, max_players=6, category_th="ปาร์ตี้"))
        session.flush()
        assert top(session, "ขนมไหว้พระจันทร์").sku == "moon-cake"
        assert search(session, "splendor") == [] or top(session, "splendor").sku != "splendor"
        session.add(Product(sku="splendor", name_en="Splendor", name_th="เกมค้าเพชร", list_price_satang=150000, stock=1))
        session.flush()
        product = session.query(Product).filter_by(sku="splendor").one()
        session.add(ProductAlias(product_id=product.id, alias="สเปลนเดอร์", kind="translit"))
        session.flush()
        assert top(session, "สเปลนเดอร์").sku == "splendor"
        assert session.query(Game).count() == 0


def _cli(monkeypatch, catalog_db, args, stdin=None):
    from shop.cli import search as search_command
    from shop.settings import get_settings

    monkeypatch.setenv("DATABASE_URL", catalog_db.url)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(search_command, args, input=stdin)
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    return result.output


def test_cli_json_output(monkeypatch, catalog_db):
    hits = json.loads(_cli(monkeypatch, catalog_db, ["เกมค้าเพชร", "--json", "--limit", "3"]))
    assert 1 <= len(hits) <= 3
    assert {"sku", "name_en", "name_th", "price_thb", "in_stock", "score", "kind"} <= set(hits[0])
    assert (hits[0]["sku"], hits[0]["price_thb"]) == ("splendor", "1260.00")


def test_cli_table_output(monkeypatch, catalog_db):
    output = _cli(monkeypatch, catalog_db, ["catan", "--limit", "2"])
    assert "Catan" in output and "not sold" in output
    assert _cli(monkeypatch, catalog_db, ["😀"]).strip() == "no match"


def test_cli_reads_one_query_per_line_from_stdin(monkeypatch, catalog_db):
    output = _cli(monkeypatch, catalog_db, ["-", "--limit", "2"], stdin="splendor\nสเปลนเดอร์\n\nปีกปักสา\n")
    lines = [json.loads(line) for line in output.splitlines()]
    assert [line["query"] for line in lines] == ["splendor", "สเปลนเดอร์", "", "ปีกปักสา"]
    assert [line["hits"][0]["sku"] if line["hits"] else None for line in lines] == ["splendor", "splendor", None, "wingspan"]


def test_search_runs_on_sqlite_and_postgresql(any_db):
    with any_db.session() as session:
        session.add(Game(id=148228, name="Splendor", min_players=2, max_players=4, play_minutes=30, min_age=10,
                         rating=7.45, users_rated=58709, mechanics="Set Collection", domains="Family Games"))
        session.add(Game(id=13, name="Catan", min_players=3, max_players=4, play_minutes=120, min_age=10,
                         rating=7.15, users_rated=101510, mechanics="Trading", domains="Strategy Games"))
        session.flush()
        product = Product(sku="splendor", name_en="Splendor", name_th="เกมค้าเพชร", list_price_satang=150000,
                          sale_price_satang=126000, stock=0, game_id=148228, category_th="ครอบครัว")
        session.add(product)
        session.flush()
        session.add(ProductAlias(product_id=product.id, alias="สเปลนเดอร์", kind="translit"))
    with any_db.session() as session:
        hit = top(session, "มีสเปลนเดอร์ไหม")
        assert (hit.sku, hit.price_satang, hit.in_stock, hit.max_players) == ("splendor", 126000, False, 4)
        assert [h.game_id for h in search(session, "catan")] == [13]
        assert search(session, "", SearchFilters(players=2, in_stock=True)) == []
        assert [h.kind for h in search(session, "", SearchFilters(players=3))] == ["product", "game"]
