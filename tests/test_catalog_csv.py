"""The shop's own catalogue CSV: preview before writing, per-row problems, idempotent by SKU, findable at once.
SQLite and PostgreSQL."""
from __future__ import annotations

from click.testing import CliRunner
from shop_data import seed_shop, stock_of
from sqlalchemy import func, select

from shop import catalog_csv
from shop.models.catalog import Game, Product
from shop.search import search

HEADER = "sku,name_th,name_en,price_thb,sale_price_thb,stock,min_players,max_players,min_minutes,max_minutes," \
         "min_age,category,image_url,bgg_id,aliases,active"


def run(db, text: str, **options):
    with db.session() as session:
        plan = catalog_csv.preview(session, text, **options)
        if not plan.refused:
            catalog_csv.commit(session, plan)
    return plan


def test_a_thousand_new_rows_land_and_are_findable(any_db):
    rows = [f"GAME-{n:04d},เกมทดสอบ {n},Test Game {n},{500 + n},,{n % 7},2,4,30,45,8,ปาร์ตี้,,,," for n in range(1000)]
    rows.append("MOON-1,ขนมไหว้พระจันทร์,Moon Cake Party,\"1,290.50\",990,3,3,6,20,30,10,ปาร์ตี้,"
                "https://example.test/moon.jpg,,มูนเค้ก|moon cake,yes")
    plan = run(any_db, HEADER + "\n" + "\n".join(rows) + "\n")
    assert plan.problems == [] and plan.counts == {"new": 1001, "update": 0, "unchanged": 0}
    with any_db.session() as session:
        assert session.scalar(select(func.count(Product.id))) == 1001
        moon = session.scalar(select(Product).where(Product.sku == "MOON-1"))
        assert (moon.list_price_satang, moon.sale_price_satang, moon.price_satang) == (129050, 99000, 99000)
        assert sorted(a.alias for a in moon.aliases) == ["moon cake", "มูนเค้ก"]
        assert search(session, "มูนเค้ก", limit=1)[0].sku == "MOON-1"


def test_excel_bom_and_plain_utf8_read_the_same(db):
    seed_shop(db)
    text = "sku,stock\nAZUL,7\n"
    for data in (text.encode("utf-8"), ("\ufeff" + text).encode("utf-8")):
        decoded = catalog_csv.decode(data)
        with db.session() as session:
            plan = catalog_csv.preview(session, decoded)
        assert plan.refused == "" and [(r.sku, r.changes) for r in plan.rows] == [("AZUL", {"stock": (1, 7)})]


def test_a_row_that_changes_only_the_stock_changes_nothing_else(any_db):
    seed_shop(any_db)
    with any_db.session() as session:
        before = session.scalar(select(Product).where(Product.sku == "TTR"))
        names = (before.name_en, before.name_th, before.list_price_satang, before.sale_price_satang)
    plan = run(any_db, "sku,stock\nTTR,3\nAZUL,1\n")
    assert [(r.sku, r.action) for r in plan.rows] == [("TTR", "update"), ("AZUL", "unchanged")]
    assert stock_of(any_db, "TTR") == 3
    with any_db.session() as session:
        after = session.scalar(select(Product).where(Product.sku == "TTR"))
        assert (after.name_en, after.name_th, after.list_price_satang, after.sale_price_satang) == names
    assert run(any_db, "sku,stock\nTTR,3\n").counts == {"new": 0, "update": 0, "unchanged": 1}  # idempotent


def test_a_duplicated_sku_refuses_the_file_with_its_lines(any_db):
    seed_shop(any_db)
    plan = run(any_db, "sku,stock\nAZUL,1\nTTR,2\nazul,3\n")
    assert plan.refused == "duplicated SKU: azul on lines 2, 4"
    assert stock_of(any_db, "TTR") == 10  # nothing written


def test_bad_rows_are_named_by_line_and_column_and_the_good_ones_land(db):
    seed_shop(db)
    with db.session() as session:
        session.add(Game(id=148228, name="Splendor"))
    text = (HEADER + "\n"
            "NEW-1,เกมใหม่,New Game,890,,4,2,5,30,60,8,ครอบครัว,,148228,,yes\n"
            "NEW-2,,No Price,,,1,,,,,,,,,,\n"
            "NEW-3,ราคาแปลก,Odd,abc,,1,,,,,,,,,,\n"
            "NEW-4,,Cheap Sale,100,200,1,5,2,,,,,http://insecure.test/x.jpg,999999,,maybe\n")
    plan = run(db, text)
    problems = {(p.line, p.column) for p in plan.problems}
    assert problems == {(3, "price_thb"), (4, "price_thb"), (5, "sale_price_thb"), (5, "min_players"),
                        (5, "image_url"), (5, "bgg_id"), (5, "active")}
    assert [row.sku for row in plan.rows] == ["NEW-1"]
    with db.session() as session:
        skus = set(session.scalars(select(Product.sku)))
        assert "NEW-1" in skus and not {"NEW-2", "NEW-3", "NEW-4"} & skus
        assert session.scalar(select(Product.game_id).where(Product.sku == "NEW-1")) == 148228


def test_hidden_products_leave_search_and_missing_ones_are_kept_unless_asked(db):
    seed_shop(db)
    with db.session() as session:
        assert search(session, "Ticket to Ride", limit=1)[0].sku == "TTR"
    run(db, "sku,active\nTTR,no\n")
    with db.session() as session:
        assert all(hit.sku != "TTR" for hit in search(session, "Ticket to Ride", limit=5))
    assert run(db, "sku,stock\nAZUL,1\n").missing == []
    plan = run(db, "sku,stock\nAZUL,1\n", deactivate_missing=True)
    assert plan.missing == ["CATAN", "SPL-EN", "SPL-TH"]  # TTR is hidden already
    with db.session() as session:
        assert set(session.scalars(select(Product.sku).where(Product.active))) == {"AZUL"}


def test_export_then_import_changes_nothing(db):
    seed_shop(db)
    with db.session() as session:
        exported = catalog_csv.export(session)
    assert exported.startswith("\ufeff" + HEADER)
    plan = run(db, catalog_csv.decode(exported.encode("utf-8")))
    assert plan.problems == [] and plan.counts == {"new": 0, "update": 0, "unchanged": 5}


def test_unknown_columns_and_files_without_sku_are_refused(db):
    with db.session() as session:
        assert "unknown column" in catalog_csv.preview(session, "sku,colour\nA,red\n").refused
        assert "sku" in catalog_csv.preview(session, "name_en,price_thb\nA,1\n").refused


def test_cli_dry_run_writes_nothing_and_stock_set(db, tmp_path, monkeypatch):
    from shop import cli

    seed_shop(db)
    monkeypatch.setattr(cli, "_database", lambda: db)
    path = tmp_path / "catalogue.csv"
    path.write_text("sku,stock\nAZUL,9\n", encoding="utf-8-sig")
    dry = CliRunner().invoke(cli.catalog, ["import", str(path), "--dry-run"])
    assert dry.exit_code == 0 and "update  line 2: AZUL (stock)" in dry.output and "nothing written" in dry.output
    assert stock_of(db, "AZUL") == 1
    assert CliRunner().invoke(cli.catalog, ["import", str(path)]).exit_code == 0
    assert stock_of(db, "AZUL") == 9
    result = CliRunner().invoke(cli.stock, ["set", "AZUL", "4"])
    assert result.exit_code == 0 and "AZUL: stock 9 → 4" in result.output and stock_of(db, "AZUL") == 4
    unknown = CliRunner().invoke(cli.stock, ["set", "NOPE", "4"])
    assert unknown.exit_code == 1 and "no product with SKU NOPE" in unknown.output
