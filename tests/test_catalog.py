"""The catalogue loader: field parsing, verified BGG links, demo stock, idempotent upsert, malformed rows."""
from __future__ import annotations

import csv

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from shop.catalog import (
    ALIASES_FILE,
    DATA_DIR,
    SNAPSHOT_FILE,
    RowError,
    demo_stock,
    load_catalog,
    parse_minutes,
    parse_players,
    parse_price_satang,
    sku_from_url,
)
from shop.models import create_all
from shop.models.catalog import Game, Product, ProductAlias

SNAPSHOT_HEADER = ("name_en,name_th,edition_lang,listing_tag,category_th,age,players,play_time_th,price_thb,"
                   "sale_price_thb,option_price_thb,options,weight,box_size,url,bgg_id_candidate,"
                   "bgg_name_candidate,bgg_match_note")
GAMES_HEADER = ("ID;Name;Year Published;Min Players;Max Players;Play Time;Min Age;Users Rated;Rating Average;"
                "BGG Rank;Complexity Average;Owned Users;Mechanics;Domains")


@pytest.mark.parametrize("text, expected", [
    ("30 นาที", (30, 30)),
    ("30-60 นาที", (30, 60)),
    ("15 - 45 นาที", (15, 45)),
    ("40-70 น่าที", (40, 70)),      # the source's typo for นาที
    ("2-3 ชั่วโมง", (120, 180)),
    ("60+ นาที", (60, None)),       # no stated maximum
    ("-", (None, None)),
    ("", (None, None)),
])
def test_play_time_is_read_from_thai_text(text, expected):
    assert parse_minutes(text) == expected


def test_players_ranges_and_bad_ranges():
    assert parse_players("2-4") == (2, 4)
    assert parse_players("2 - 4") == (2, 4)
    assert parse_players("2") == (2, 2)
    assert parse_players("") == (None, None)
    with pytest.raises(RowError):
        parse_players("6-2")


def test_prices_are_satang_and_reject_junk():
    assert parse_price_satang("1500", "price", required=True) == 150000
    assert parse_price_satang("฿1,450.00", "price", required=True) == 145000
    assert parse_price_satang("", "sale", required=False) is None
    for bad in ("abc", "0", "-5", "1.234"):
        with pytest.raises(RowError):
            parse_price_satang(bad, "price", required=True)
    with pytest.raises(RowError):
        parse_price_satang("", "price", required=True)


def test_sku_is_the_url_slug():
    assert sku_from_url("https://siamboardgames.com/product/love-letter-th-2019/") == "love-letter-th-2019"
    with pytest.raises(RowError):
        sku_from_url("https://siamboardgames.com/")


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    """The real catalogue loaded once into SQLite, with the report of that load."""
    from shop.db import Database

    database = Database(f"sqlite:///{tmp_path_factory.mktemp('catalog') / 'catalog.db'}")
    create_all(database)
    with database.session() as session:
        report = load_catalog(session)
    yield database, report
    database.engine.dispose()


def test_every_snapshot_row_becomes_a_product_with_satang_prices(loaded):
    database, report = loaded
    with open(DATA_DIR / SNAPSHOT_FILE, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert report.problems == []
    with database.session() as session:
        assert session.scalar(select(func.count(Product.id))) == len(rows) == 135
        splendor = session.scalar(select(Product).where(Product.sku == "splendor"))
        assert (splendor.list_price_satang, splendor.sale_price_satang, splendor.price_satang) == (150000, 126000, 126000)
        assert (splendor.min_players, splendor.max_players, splendor.min_minutes, splendor.max_minutes,
                splendor.min_age) == (2, 4, 30, 30, 10)
        mansions = session.scalar(select(Product).where(Product.sku == "sanctum-of-twilight"))
        assert (mansions.min_minutes, mansions.max_minutes) == (120, 180)  # "2-3 ชั่วโมง"
        coup = session.scalar(select(Product).where(Product.sku == "coup"))
        assert coup.sale_price_satang is None and coup.price_satang == 72000
        assert "กลยุทธ" not in {w.strip() for p in session.scalars(select(Product)) for w in p.category_th.split(",")}


def test_games_load_all_bgg_rows_with_an_id_and_merge_thai_titles(loaded):
    database, report = loaded
    assert any("16 rows without a BoardGameGeek ID" in note for note in report.notes)
    with database.session() as session:
        assert session.scalar(select(func.count(Game.id))) == 20343 - 16
        splendor = session.get(Game, 148228)
        assert splendor.name == "Splendor" and splendor.name_th == "เกมค้าเพชร"
        assert splendor.thai_publisher == "Siam Board Games"
        assert (splendor.rating, splendor.complexity, splendor.users_rated) == (7.45, 1.8, 58709)  # "7,45", "1,80"
        assert splendor.domains == "Family Games" and "Set Collection" in splendor.mechanics
        assert session.get(Game, 13).name == "Catan"


def test_bgg_links_are_verified_not_taken_from_the_snapshot(loaded):
    database, _report = loaded
    with database.session() as session:
        def game_of(sku):
            return session.scalar(select(Product.game_id).where(Product.sku == sku))

        # The snapshot proposes 324345 (a 3-4 player Japanese edition) for the shop's 2-5 player Cat In The Box.
        assert game_of("cat-in-the-box") is None
        # The dented 2019 Love Letter (2-6 players) is BGG 277085, not the 2012 edition the snapshot proposes.
        assert game_of("love-letter-th-2019") == 277085
        assert game_of("love-letter") == 129622
        assert game_of("splendor") == 148228
        assert game_of("incan-gold") == 15512      # Diamant: same game, different title
        assert game_of("splendor-2024") is None     # newer than the BGG data


def test_links_that_fail_the_sanity_check_are_reported_and_left_out(tmp_path, db):
    links = tmp_path / "links.csv"
    links.write_text("sku,bgg_id,bgg_name,decision,note\n"
                     "travel-chess,207898,Captive,same,players 2-4 vs 1-1\n"
                     "splendor,148228,Splendour,same,name typo\n"
                     "jaipur,54043,Jaipur,same,fine\n", encoding="utf-8")
    with db.session() as session:
        report = load_catalog(session, links_file=links)
        assert session.scalar(select(Product.game_id).where(Product.sku == "travel-chess")) is None
        assert session.scalar(select(Product.game_id).where(Product.sku == "splendor")) is None
        assert session.scalar(select(Product.game_id).where(Product.sku == "jaipur")) == 54043
    assert any("links.csv line 2" in p and "not the same game" in p for p in report.problems)
    assert any("links.csv line 3" in p and "Splendor" in p for p in report.problems)


def test_every_product_has_hand_curated_aliases(loaded):
    database, _report = loaded
    with database.session() as session:
        curated = dict(session.execute(select(ProductAlias.product_id, func.count(ProductAlias.id))
                                       .where(ProductAlias.kind != "title_th").group_by(ProductAlias.product_id)).all())
        product_ids = session.scalars(select(Product.id)).all()
        assert all(curated.get(pid, 0) >= 2 for pid in product_ids)
        splendor = session.scalar(select(Product).where(Product.sku == "splendor"))
        assert {"เกมค้าเพชร", "สเปลนเดอร์", "splender"} <= {a.alias for a in splendor.aliases}


def test_demo_stock_is_deterministic_with_sold_out_and_last_copy_items(loaded):
    database, _report = loaded
    with database.session() as session:
        stock = dict(session.execute(select(Product.sku, Product.stock)).all())
    assert stock["rumble-nation"] == 0  # Pre-Order
    assert all(stock[sku] == demo_stock(sku) for sku in stock if sku != "rumble-nation")
    assert sum(1 for s in stock.values() if s == 0) >= 3
    assert sum(1 for s in stock.values() if s == 1) >= 2
    assert sum(1 for s in stock.values() if s > 1) > 100


def _snapshot(session) -> tuple:
    products = session.execute(select(Product.sku, Product.name_en, Product.name_th, Product.list_price_satang,
                                      Product.sale_price_satang, Product.game_id, Product.stock, Product.id)
                               .order_by(Product.sku)).all()
    aliases = session.execute(select(ProductAlias.product_id, ProductAlias.alias, ProductAlias.kind)
                              .order_by(ProductAlias.product_id, ProductAlias.alias)).all()
    games = session.execute(select(func.count(Game.id), func.sum(Game.users_rated), func.max(Game.name_th))).one()
    return tuple(products), tuple(aliases), tuple(games)


def test_loading_twice_changes_nothing_and_keeps_stock(any_db):
    with any_db.session() as session:
        first = load_catalog(session)
    assert first.products_inserted == 135 and first.games_inserted == 20327 and first.changed
    with any_db.session() as session:
        session.execute(Product.__table__.update().where(Product.sku == "splendor").values(stock=99))
        before = _snapshot(session)
    with any_db.session() as session:
        second = load_catalog(session)
    assert not second.changed, second.summary()
    with any_db.session() as session:
        assert _snapshot(session) == before
        assert session.scalar(select(Product.stock).where(Product.sku == "splendor")) == 99  # orders' stock kept


def _write_small_catalogue(tmp_path, product_rows: list[str]) -> dict:
    snapshot = tmp_path / "snapshot.csv"
    snapshot.write_text("\n".join([SNAPSHOT_HEADER, *product_rows]) + "\n", encoding="utf-8")
    games = tmp_path / "games.csv"
    games.write_text("\ufeff" + "\n".join([
        GAMES_HEADER,
        "148228;Splendor;2014;2;4;30;10;42055;7,43;100;1,79;58000;Card Drafting, Set Collection;Family Games, Strategy Games",
        ";Hus;1950;2;2;30;0;31;5,5;20000;2;40;;Abstract Games",
        "oops;Broken;2014;2;4;30;10;1;7,0;1;1,0;1;;",
    ]) + "\n", encoding="utf-8")
    titles = tmp_path / "titles.csv"
    titles.write_text("name_en,name_th,thai_publisher,category,min_players,max_players,min_age,bgg_id_candidate,"
                      "bgg_name_candidate,bgg_match_note\nSplendor,เกมค้าเพชร,Siam Board Games,STRATEGY,2,4,10,"
                      "148228,Splendor,ok\n", encoding="utf-8")
    links = tmp_path / "links.csv"
    links.write_text("sku,bgg_id,bgg_name,decision,note\nsplendor,148228,Splendor,same,ok\n", encoding="utf-8")
    aliases = tmp_path / "aliases.csv"
    aliases.write_text("sku,alias,kind\nsplendor,สเปลนเดอร์,translit\nsplendor,,short\nnope,x,short\n"
                       "splendor,splender,typo\n", encoding="utf-8")
    return dict(snapshot=snapshot, games_file=games, thai_titles=titles, links_file=links, aliases_file=aliases)


def test_malformed_rows_are_reported_with_line_numbers_and_skipped(tmp_path, db):
    good = "Splendor,เกมค้าเพชร,TH,,ครอบครัว,10+,2-4,30 นาที,1500,1260,,,1 กก.,,https://x.test/product/splendor/,,,"
    files = _write_small_catalogue(tmp_path, [
        good,
        "Bad Price,ราคาเสีย,TH,,ครอบครัว,10+,2-4,30 นาที,abc,,,,,,https://x.test/product/bad-price/,,,",
        "No Url,ไม่มีลิงก์,TH,,ครอบครัว,10+,2-4,30 นาที,500,,,,,,,,,",
        "Short row,แถวสั้น",
        "Players Backwards,กลับหัว,TH,,ครอบครัว,10+,6-2,30 นาที,500,,,,,,https://x.test/product/backwards/,,,",
        "Jaipur,ชัยปุระ,TH,,ครอบครัว,12+,2,30 นาที,850,,,,,,https://x.test/product/jaipur/,,,",
    ])
    with db.session() as session:
        report = load_catalog(session, **files)
        skus = set(session.scalars(select(Product.sku)))
        aliases = set(session.scalars(select(ProductAlias.alias)))
        assert session.get(Game, 148228).name_th == "เกมค้าเพชร"
    assert skus == {"splendor", "jaipur"}
    assert {"สเปลนเดอร์", "เกมค้าเพชร", "ชัยปุระ"} == aliases
    problems = "\n".join(report.problems)
    assert "snapshot.csv line 3: price_thb" in problems
    assert "snapshot.csv line 4: url has no usable product slug" in problems
    assert "snapshot.csv line 5: wrong number of fields" in problems
    assert "snapshot.csv line 6: players is not a range" in problems
    assert "games.csv line 4: ID is not a whole number" in problems
    assert "aliases.csv line 3: alias is empty" in problems
    assert "aliases.csv line 4: unknown sku 'nope'" in problems
    assert "aliases.csv line 5: unknown kind 'typo'" in problems
    assert any("1 rows without a BoardGameGeek ID" in note and "lines 3" in note for note in report.notes)


def test_cli_load_if_empty_only_loads_an_empty_database(tmp_path, monkeypatch):
    from shop.cli import catalog
    from shop.db import Database
    from shop.settings import get_settings

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    create_all(Database(url))
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        first = runner.invoke(catalog, ["load", "--if-empty", "--no-warm"])
        assert first.exit_code == 0, first.output
        assert "products: 135 new" in first.output
        second = runner.invoke(catalog, ["load", "--if-empty", "--no-warm"])
        assert second.exit_code == 0 and "already loaded (135 products)" in second.output
        third = runner.invoke(catalog, ["load", "--no-warm"])
        assert third.exit_code == 0 and "products: 0 new, 0 updated" in third.output
    finally:
        get_settings.cache_clear()


def test_alias_file_names_only_known_skus_and_kinds():
    with open(DATA_DIR / ALIASES_FILE, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    with open(DATA_DIR / SNAPSHOT_FILE, newline="", encoding="utf-8") as handle:
        skus = {sku_from_url(r["url"]) for r in csv.DictReader(handle)}
    assert {r["sku"] for r in rows} == skus
    assert len({(r["sku"], r["alias"]) for r in rows}) == len(rows)


def test_a_reload_repairs_rows_that_differ_from_the_files(loaded):
    database, _report = loaded
    with database.session() as session:
        session.execute(Game.__table__.update().where(Game.id == 13).values(rating=1.0, name_th="ผิด"))
        session.execute(Product.__table__.update().where(Product.sku == "coup").values(list_price_satang=1))
        session.execute(ProductAlias.__table__.delete().where(ProductAlias.alias == "คูป"))
    with database.session() as session:
        report = load_catalog(session)
    assert (report.games_updated, report.products_updated, report.aliases_inserted) == (1, 1, 1)
    with database.session() as session:
        catan = session.get(Game, 13)
        assert catan.rating == 7.15 and catan.name_th is None
        assert session.scalar(select(Product.list_price_satang).where(Product.sku == "coup")) == 72000


def test_cli_on_a_database_without_tables_says_what_to_do(tmp_path, monkeypatch):
    from shop.cli import catalog, search
    from shop.settings import get_settings

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'new.db'}")
    get_settings.cache_clear()
    try:
        for command, args in ((catalog, ["load", "--no-warm"]), (search, ["splendor"])):
            result = CliRunner().invoke(command, args)
            assert result.exit_code == 1 and "salesbot db upgrade" in result.output
    finally:
        get_settings.cache_clear()
