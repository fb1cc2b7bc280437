"""The shop's own catalogue as a CSV file: import with a preview, export, idempotent by SKU.

Columns (header names; UTF-8 with or without Excel's BOM; only `sku` is required in every file, so a file
of `sku,stock` changes stock alone). A new product needs a name and `price_thb`.

| column | meaning |
| --- | --- |
| sku | the shop's own product code, unique (letters, digits, `-` `_` `.`) |
| name_th, name_en | Thai and English names (at least one for a new product) |
| price_thb, sale_price_thb | list price and optional sale price in baht, e.g. `1290` or `1,290.50` |
| stock | units free to sell |
| min_players, max_players, min_minutes, max_minutes, min_age | whole numbers; empty = unknown |
| category | Thai category text shown to customers, e.g. `ปาร์ตี้, ครอบครัว` |
| image_url | an https:// picture of the product |
| bgg_id | BoardGameGeek id of the game, for facts and recommendations |
| aliases | other ways customers write the name, separated by `|` |
| active | `yes`/`no` (also true/false, 1/0, ใช่/ไม่); `no` hides it from customers |

`preview` reads the whole file and writes nothing: each row's action (new, update, unchanged) and
changes, and every problem with its line and column. `commit` writes the good rows of the same preview
in one transaction; rows with problems are skipped, and a file with a duplicated SKU is refused whole.
Products missing from the file are left alone unless `deactivate_missing` is asked for.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from shop.models.base import utcnow
from shop.models.catalog import Game, Product, ProductAlias
from shop.money import baht_to_satang, satang_to_decimal

COLUMNS = ("sku", "name_th", "name_en", "price_thb", "sale_price_thb", "stock", "min_players", "max_players",
           "min_minutes", "max_minutes", "min_age", "category", "image_url", "bgg_id", "aliases", "active")
INT_COLUMNS = {"stock": "stock", "min_players": "min_players", "max_players": "max_players",
               "min_minutes": "min_minutes", "max_minutes": "max_minutes", "min_age": "min_age"}
MAX_ROWS = 20_000
SKU = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}")
TRUE, FALSE = {"yes", "y", "true", "1", "ใช่", "ขาย"}, {"no", "n", "false", "0", "ไม่", "ไม่ขาย"}


@dataclass
class Problem:
    line: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}, {self.column}: {self.message}"


@dataclass
class RowPlan:
    line: int
    sku: str
    action: str                                   # "new", "update", "unchanged"
    changes: dict[str, tuple] = field(default_factory=dict)   # field -> (before, after)
    aliases: list[str] | None = None


@dataclass
class Preview:
    rows: list[RowPlan] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    refused: str = ""                              # the whole file is refused (duplicated SKUs, no sku column)
    missing: list[str] = field(default_factory=list)   # SKUs in the shop but not in the file

    @property
    def counts(self) -> dict[str, int]:
        counts = {"new": 0, "update": 0, "unchanged": 0}
        for row in self.rows:
            counts[row.action] += 1
        return counts

    def summary(self) -> str:
        c = self.counts
        return (f"{c['new']} new, {c['update']} updated, {c['unchanged']} unchanged, "
                f"{len({p.line for p in self.problems})} row(s) with problems")


def decode(data: bytes) -> str:
    """UTF-8 with or without the BOM Excel writes. Anything else is refused with a readable reason."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ValueError(f"the file is not UTF-8 (byte {error.start}); in Excel use “CSV UTF-8”") from None


def _baht(text: str) -> int:
    try:
        value = Decimal(text.replace(",", "").replace("฿", "").strip())
    except InvalidOperation:
        raise ValueError("not a price in baht, e.g. 1290 or 1,290.50") from None
    if value < 0:
        raise ValueError("must not be negative")
    return baht_to_satang(value)


def _whole(text: str) -> int:
    if not re.fullmatch(r"\d{1,7}", text.replace(",", "")):
        raise ValueError("must be a whole number (0 or more)")
    return int(text.replace(",", ""))


def _row_values(raw: dict[str, str], line: int, games: set[int], problems: list[Problem]) -> dict:
    """The product fields a row sets (only the columns it has), or problems."""
    values: dict = {}

    def fail(column: str, message: str) -> None:
        problems.append(Problem(line, column, message))

    for column, text in raw.items():
        text = (text or "").strip()
        try:
            if column in ("name_th", "name_en"):
                if len(text) > 300:
                    raise ValueError("longer than 300 characters")
                values[column] = text
            elif column == "price_thb":
                if not text:
                    raise ValueError("is required")
                values["list_price_satang"] = _baht(text)
            elif column == "sale_price_thb":
                values["sale_price_satang"] = _baht(text) if text else None
            elif column in INT_COLUMNS:
                values[INT_COLUMNS[column]] = _whole(text) if text else (0 if column == "stock" else None)
            elif column == "category":
                values["category_th"] = text[:200]
            elif column == "image_url":
                if text and not re.fullmatch(r"https://\S+", text):
                    raise ValueError("must be an https:// address (LINE shows only HTTPS pictures)")
                values["image_url"] = text[:500]
            elif column == "bgg_id":
                game_id = _whole(text) if text else None
                if game_id is not None and game_id not in games:
                    raise ValueError(f"BoardGameGeek id {game_id} is not in the shop's game data")
                values["game_id"] = game_id
            elif column == "aliases":
                values["aliases"] = [a.strip() for a in text.split("|") if a.strip()]
            elif column == "active":
                folded = text.casefold()
                if folded and folded not in TRUE | FALSE:
                    raise ValueError("must be yes or no")
                values["active"] = folded not in FALSE
        except ValueError as error:
            fail(column, str(error))
    sale, price = values.get("sale_price_satang"), values.get("list_price_satang")
    if sale is not None and price is not None and sale > price:
        fail("sale_price_thb", "is higher than price_thb")
    for low, high in (("min_players", "max_players"), ("min_minutes", "max_minutes")):
        if values.get(low) is not None and values.get(high) is not None and values[low] > values[high]:
            fail(low, f"is more than {high}")
    return values


def preview(session: Session, text: str, *, deactivate_missing: bool = False) -> Preview:
    """What importing `text` would do; writes nothing."""
    result = Preview()
    reader = csv.DictReader(io.StringIO(text))
    header = [(name or "").strip().casefold() for name in (reader.fieldnames or [])]
    if "sku" not in header:
        result.refused = "the first line must name the columns, and one of them must be sku"
        return result
    unknown = [name for name in header if name not in COLUMNS]
    if unknown:
        result.refused = f"unknown column(s): {', '.join(unknown)} (known: {', '.join(COLUMNS)})"
        return result
    reader.fieldnames = header
    rows = []
    for number, raw in enumerate(reader, start=2):
        if number - 1 > MAX_ROWS:
            result.refused = f"more than {MAX_ROWS} rows"
            return result
        if None in raw:  # more cells than columns
            result.problems.append(Problem(number, "-", "more cells than the header has columns"))
            continue
        if not any((v or "").strip() for v in raw.values()):
            continue  # an empty line
        rows.append((number, raw))
    seen: dict[str, list[int]] = {}
    for number, raw in rows:
        seen.setdefault((raw.get("sku") or "").strip().casefold(), []).append(number)
    duplicated = {sku: lines for sku, lines in seen.items() if sku and len(lines) > 1}
    if duplicated:
        result.refused = "duplicated SKU: " + "; ".join(
            f"{sku} on lines {', '.join(map(str, lines))}" for sku, lines in sorted(duplicated.items()))
        return result

    existing = {p.sku.casefold(): p for p in session.scalars(select(Product).options(selectinload(Product.aliases)))}
    games = set(session.scalars(select(Game.id))) if "bgg_id" in header else set()
    for number, raw in rows:
        sku = (raw.pop("sku") or "").strip()
        if not SKU.fullmatch(sku):
            result.problems.append(Problem(number, "sku", "must be 1–64 letters, digits, - _ or ."))
            continue
        problems: list[Problem] = []
        values = _row_values(raw, number, games, problems)
        product = existing.get(sku.casefold())
        if product is None:
            if not (values.get("name_en") or values.get("name_th")):
                problems.append(Problem(number, "name_en", "a new product needs name_en or name_th"))
            if "list_price_satang" not in values:
                problems.append(Problem(number, "price_thb", "a new product needs a price"))
        result.problems += problems
        if problems:
            continue
        aliases = values.pop("aliases", None)
        if product is None:
            result.rows.append(RowPlan(number, sku, "new", {k: (None, v) for k, v in values.items()}, aliases))
            continue
        changes = {k: (getattr(product, k), v) for k, v in values.items() if getattr(product, k) != v}
        if aliases is not None and sorted(aliases) != sorted(a.alias for a in product.aliases):
            changes["aliases"] = (sorted(a.alias for a in product.aliases), aliases)
        result.rows.append(RowPlan(number, product.sku, "update" if changes else "unchanged", changes, aliases))
    if deactivate_missing:
        in_file = {row.sku.casefold() for row in result.rows} | {(raw.get("sku") or "").strip().casefold()
                                                                  for _, raw in rows}
        result.missing = sorted(p.sku for key, p in existing.items() if key not in in_file and p.active)
    return result


def commit(session: Session, plan: Preview) -> Preview:
    """Write the good rows of `plan` (from `preview` in this same session) and return it."""
    if plan.refused:
        raise ValueError(plan.refused)
    now = utcnow()
    products = {p.sku: p for p in session.scalars(select(Product).options(selectinload(Product.aliases))
                                                  .where(Product.sku.in_([r.sku for r in plan.rows])))}
    for row in plan.rows:
        if row.action == "unchanged":
            continue
        product = products.get(row.sku)
        if product is None:
            product = Product(sku=row.sku, name_en="", list_price_satang=0)
            session.add(product)
        for name, (_, after) in row.changes.items():
            if name != "aliases":
                setattr(product, name, after)
        if not product.name_en:
            product.name_en = product.name_th
        if row.aliases is not None and ("aliases" in row.changes or row.action == "new"):
            product.aliases = [ProductAlias(alias=alias[:300], kind="shop") for alias in dict.fromkeys(row.aliases)]
        product.revised_at = now
    for product in session.scalars(select(Product).where(Product.sku.in_(plan.missing))):
        product.active, product.revised_at = False, now
    session.flush()
    return plan


def export(session: Session) -> str:
    """Every product as CSV in the import format (UTF-8 with a BOM, so Excel opens Thai correctly)."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for p in session.scalars(select(Product).options(selectinload(Product.aliases)).order_by(Product.sku)):
        def number(value):
            return "" if value is None else str(value)

        writer.writerow([p.sku, p.name_th, p.name_en, satang_to_decimal(p.list_price_satang),
                         "" if p.sale_price_satang is None else satang_to_decimal(p.sale_price_satang),
                         p.stock, number(p.min_players), number(p.max_players), number(p.min_minutes),
                         number(p.max_minutes), number(p.min_age), p.category_th, p.image_url, number(p.game_id),
                         "|".join(a.alias for a in p.aliases), "yes" if p.active else "no"])
    return out.getvalue()


def set_stock(session: Session, sku: str, quantity: int) -> tuple[int, int]:
    """Set one product's stock; returns (before, after). Raises LookupError for an unknown SKU."""
    if quantity < 0:
        raise ValueError("stock cannot be negative")
    product = session.scalar(select(Product).where(Product.sku == sku).with_for_update())
    if product is None:
        raise LookupError(f"no product with SKU {sku}")
    before, product.stock = product.stock, quantity
    return before, quantity
