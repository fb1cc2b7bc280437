"""`salesbot catalog load`: build games, products and aliases from the data files in shop/data.

Loading is an idempotent upsert: a second load with the same files changes no row. Stock is the one
field a load never overwrites on an existing product, because orders decrement it. A malformed row is
reported with its file and line number and skipped; the rest still loads.
"""
from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from shop.models.catalog import Game, Product, ProductAlias
from shop.money import baht_to_satang

DATA_DIR = Path(__file__).resolve().parent / "data"
GAMES_FILE = "bgg_dataset.csv"
SNAPSHOT_FILE = "siamboardgames_snapshot_2025-04.csv"
THAI_TITLES_FILE = "thai_localized_titles_thlcbg.csv"
LINKS_FILE = "bgg_links.csv"
ALIASES_FILE = "aliases.csv"

ALIAS_KINDS = frozenset({"title_th", "translit", "misspelling", "short", "other"})

# The shop's category spellings vary (กลยุทธ / กลยุทธ์, เกมเด็ก / เด็ก): one canonical word each.
CATEGORY_CANONICAL = {"กลยุทธ": "กลยุทธ์", "เกมเด็ก": "เด็ก"}


@dataclass
class LoadReport:
    games_inserted: int = 0
    games_updated: int = 0
    games_titled_th: int = 0
    products_inserted: int = 0
    products_updated: int = 0
    products_linked: int = 0
    aliases_inserted: int = 0
    aliases_deleted: int = 0
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any((self.games_inserted, self.games_updated, self.products_inserted, self.products_updated,
                    self.aliases_inserted, self.aliases_deleted))

    def summary(self) -> str:
        return (f"games: {self.games_inserted} new, {self.games_updated} updated, {self.games_titled_th} with a Thai title; "
                f"products: {self.products_inserted} new, {self.products_updated} updated, {self.products_linked} linked to BGG; "
                f"aliases: {self.aliases_inserted} new, {self.aliases_deleted} removed; "
                f"{len(self.problems)} malformed rows skipped")


class RowError(ValueError):
    """A field that cannot be read; the message says which and why."""


# ---------------------------------------------------------------- field parsers (pure, tested directly)

def parse_int(text: str, name: str, *, zero_is_unknown: bool = False) -> int | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        value = int(text)
    except ValueError:
        raise RowError(f"{name} is not a whole number: {text!r}") from None
    return None if zero_is_unknown and value == 0 else value


def parse_decimal_comma(text: str, name: str) -> float | None:
    """BGG writes 8,79; zero means "not rated"."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        value = float(text.replace(",", "."))
    except ValueError:
        raise RowError(f"{name} is not a number: {text!r}") from None
    return value or None


def parse_players(text: str) -> tuple[int | None, int | None]:
    """'2-4', '2 - 4', '2' -> (min, max); '' or '-' -> (None, None)."""
    numbers = [int(n) for n in re.findall(r"\d+", text or "")]
    if not numbers:
        return None, None
    if len(numbers) > 2 or numbers[0] > numbers[-1]:
        raise RowError(f"players is not a range: {text!r}")
    return numbers[0], numbers[-1]


def parse_minutes(text: str) -> tuple[int | None, int | None]:
    """Thai play time: '30 นาที', '30-60 นาที', '15 - 45 นาที', '2-3 ชั่วโมง', '60+ นาที' (no maximum), '-'."""
    text = (text or "").strip()
    numbers = [int(n) for n in re.findall(r"\d+", text)]
    if not numbers:
        return None, None
    if len(numbers) > 2:
        raise RowError(f"play time is not a range: {text!r}")
    factor = 60 if "ชั่วโมง" in text or "ชม" in text or "hour" in text.lower() else 1
    low = numbers[0] * factor
    if len(numbers) == 2:
        return low, numbers[1] * factor
    return (low, None) if "+" in text else (low, low)


def parse_age(text: str) -> int | None:
    match = re.search(r"\d+", text or "")
    return int(match.group()) if match else None


def parse_weight_grams(text: str) -> int | None:
    match = re.search(r"(\d+(?:\.\d+)?)\s*(กก|kg|กรัม|g)", text or "")
    if not match:
        return None
    grams = float(match.group(1)) * (1000 if match.group(2) in ("กก", "kg") else 1)
    return int(round(grams))


def parse_price_satang(text: str, name: str, *, required: bool) -> int | None:
    text = (text or "").strip().replace("฿", "")
    if not text:
        if required:
            raise RowError(f"{name} is missing")
        return None
    try:
        satang = baht_to_satang(text)
    except (ValueError, TypeError) as error:
        raise RowError(f"{name}: {error}") from None
    if satang <= 0:
        raise RowError(f"{name} must be positive: {text!r}")
    return satang


def canonical_categories(text: str) -> str:
    words = [w.strip() for w in (text or "").split(",")]
    seen: list[str] = []
    for word in words:
        word = CATEGORY_CANONICAL.get(word, word)
        if word and word not in seen:
            seen.append(word)
    return ", ".join(seen)


def sku_from_url(url: str) -> str:
    """The URL slug is the product's stable identity across loads: .../product/love-letter-th-2019/ -> love-letter-th-2019."""
    path = urlparse((url or "").strip()).path.strip("/")
    slug = path.rsplit("/", 1)[-1].lower()
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,63}", slug):
        raise RowError(f"url has no usable product slug: {url!r}")
    return slug


def demo_stock(sku: str) -> int:
    """Deterministic demo stock from a hash of the SKU: ~10 % sold out, ~5 % last copy, the rest 2–11."""
    n = int(hashlib.sha256(sku.encode()).hexdigest()[:8], 16) % 20
    if n < 2:
        return 0
    if n == 2:
        return 1
    return 2 + n % 10


# ---------------------------------------------------------------- reading files

def _rows(path: Path, *, delimiter: str = ",", encoding: str = "utf-8") -> Iterable[tuple[int, dict[str, str]]]:
    """(line number, row) for each data row; the header is line 1."""
    with open(path, newline="", encoding=encoding) as handle:
        reader = csv.DictReader(handle, delimiter=delimiter)
        for row in reader:
            if None in row or any(value is None for value in row.values()):
                yield reader.line_num, {"__malformed__": "wrong number of fields"}
                continue
            yield reader.line_num, row


def _problem(report: LoadReport, path: Path, line: int, reason: str) -> None:
    report.problems.append(f"{path.name} line {line}: {reason}")


def read_games(path: Path, report: LoadReport) -> dict[int, dict]:
    games: dict[int, dict] = {}
    without_id: list[int] = []
    for line, row in _rows(path, delimiter=";", encoding="utf-8-sig"):
        try:
            if "__malformed__" in row:
                raise RowError(row["__malformed__"])
            if not row["ID"].strip():
                without_id.append(line)
                continue
            game_id = parse_int(row["ID"], "ID")
            name = row["Name"].strip()
            if not name:
                raise RowError("Name is empty")
            if game_id in games:
                raise RowError(f"duplicate ID {game_id}")
            games[game_id] = dict(
                id=game_id, name=name[:300],
                year=parse_int(row["Year Published"], "Year Published", zero_is_unknown=True),
                min_players=parse_int(row["Min Players"], "Min Players", zero_is_unknown=True),
                max_players=parse_int(row["Max Players"], "Max Players", zero_is_unknown=True),
                play_minutes=parse_int(row["Play Time"], "Play Time", zero_is_unknown=True),
                min_age=parse_int(row["Min Age"], "Min Age", zero_is_unknown=True),
                users_rated=parse_int(row["Users Rated"], "Users Rated"),
                rating=parse_decimal_comma(row["Rating Average"], "Rating Average"),
                rank=parse_int(row["BGG Rank"], "BGG Rank"),
                complexity=parse_decimal_comma(row["Complexity Average"], "Complexity Average"),
                owned_users=parse_int(row["Owned Users"], "Owned Users"),
                mechanics=row["Mechanics"].strip(), domains=row["Domains"].strip(),
                name_th=None, thai_publisher=None,
            )
        except (RowError, KeyError) as error:
            _problem(report, path, line, str(error))
    if without_id:
        report.notes.append(f"{path.name}: {len(without_id)} rows without a BoardGameGeek ID skipped "
                            f"(lines {', '.join(map(str, without_id))}); a game needs its BGG ID as key")
    return games


def merge_thai_titles(path: Path, games: dict[int, dict], report: LoadReport) -> None:
    """Add name_th / thai_publisher to games whose BGG name is exactly the English title in the file."""
    missing = []
    for line, row in _rows(path):
        if "__malformed__" in row:
            _problem(report, path, line, row["__malformed__"])
            continue
        candidate = (row.get("bgg_id_candidate") or "").strip()
        game = games.get(int(candidate)) if candidate.isdigit() else None
        if game is None or game["name"].casefold() != (row.get("bgg_name_candidate") or "").strip().casefold():
            missing.append(row["name_en"])
            continue
        game["name_th"] = (row.get("name_th") or "").strip() or None
        game["thai_publisher"] = (row.get("thai_publisher") or "").strip()[:120] or None
        report.games_titled_th += 1
    if missing:
        report.notes.append(f"{path.name}: {len(missing)} Thai editions have no row in the Feb 2021 BGG data "
                            f"({', '.join(missing)})")


def read_products(path: Path, report: LoadReport) -> dict[str, dict]:
    products: dict[str, dict] = {}
    for line, row in _rows(path):
        try:
            if "__malformed__" in row:
                raise RowError(row["__malformed__"])
            name_en = (row.get("name_en") or "").strip()
            if not name_en:
                raise RowError("name_en is empty")
            sku = sku_from_url(row.get("url", ""))
            if sku in products:
                raise RowError(f"duplicate url slug {sku!r}")
            min_players, max_players = parse_players(row.get("players", ""))
            min_minutes, max_minutes = parse_minutes(row.get("play_time_th", ""))
            list_price = parse_price_satang(row.get("price_thb", ""), "price_thb", required=True)
            sale_price = parse_price_satang(row.get("sale_price_thb", ""), "sale_price_thb", required=False)
            if sale_price is not None and sale_price >= list_price:
                sale_price = None  # not a sale: keep the list price as the one price
            products[sku] = dict(
                sku=sku, name_en=name_en[:300], name_th=(row.get("name_th") or "").strip()[:300],
                edition_lang=(row.get("edition_lang") or "").strip()[:16],
                listing_tag=(row.get("listing_tag") or "").strip()[:40],
                category_th=canonical_categories(row.get("category_th", ""))[:200],
                min_players=min_players, max_players=max_players,
                min_minutes=min_minutes, max_minutes=max_minutes,
                min_age=parse_age(row.get("age", "")),
                list_price_satang=list_price, sale_price_satang=sale_price,
                weight_grams=parse_weight_grams(row.get("weight", "")),
                url=row["url"].strip()[:500],
            )
        except RowError as error:
            _problem(report, path, line, str(error))
    return products


def read_links(path: Path, products: dict[str, dict], games: dict[int, dict], report: LoadReport) -> dict[str, int]:
    """Hand-verified product → BGG links. Each is re-checked against the data: the BGG name must be the one
    the curator saw, and the player ranges must overlap; anything else is reported and left unlinked."""
    links: dict[str, int] = {}
    for line, row in _rows(path):
        if "__malformed__" in row:
            _problem(report, path, line, row["__malformed__"])
            continue
        sku, decision = row["sku"].strip(), row["decision"].strip()
        if decision != "same":
            continue
        product, game_id = products.get(sku), row["bgg_id"].strip()
        game = games.get(int(game_id)) if game_id.isdigit() else None
        if product is None:
            _problem(report, path, line, f"unknown sku {sku!r}")
        elif game is None:
            _problem(report, path, line, f"no BGG game {game_id!r}")
        elif game["name"] != row["bgg_name"].strip():
            _problem(report, path, line, f"BGG {game_id} is {game['name']!r}, not {row['bgg_name']!r}")
        elif not _ranges_overlap(product["min_players"], product["max_players"], game["min_players"], game["max_players"]):
            _problem(report, path, line, f"players {product['min_players']}-{product['max_players']} vs BGG "
                                         f"{game['min_players']}-{game['max_players']}: not the same game")
        else:
            links[sku] = game["id"]
    return links


def _ranges_overlap(a_min, a_max, b_min, b_max) -> bool:
    if None in (a_min, a_max, b_min, b_max):
        return True  # unknown on one side: the curator's decision stands
    return a_min <= b_max and b_min <= a_max


def read_aliases(path: Path, products: dict[str, dict], report: LoadReport) -> dict[str, dict[str, str]]:
    """sku -> {alias: kind}. The Thai title from the snapshot is always an alias too."""
    aliases: dict[str, dict[str, str]] = {sku: {} for sku in products}
    for sku, product in products.items():
        if product["name_th"]:
            aliases[sku][product["name_th"]] = "title_th"
    for line, row in _rows(path):
        if "__malformed__" in row:
            _problem(report, path, line, row["__malformed__"])
            continue
        sku, alias, kind = row["sku"].strip(), " ".join(row["alias"].split())[:300], row["kind"].strip() or "other"
        if sku not in products:
            _problem(report, path, line, f"unknown sku {sku!r}")
        elif not alias:
            _problem(report, path, line, "alias is empty")
        elif kind not in ALIAS_KINDS:
            _problem(report, path, line, f"unknown kind {kind!r} (one of {', '.join(sorted(ALIAS_KINDS))})")
        else:
            aliases[sku].setdefault(alias, kind)
    return aliases


# ---------------------------------------------------------------- writing

_GAME_FIELDS = ("name", "name_th", "thai_publisher", "year", "min_players", "max_players", "play_minutes", "min_age",
                "users_rated", "rating", "rank", "complexity", "owned_users", "mechanics", "domains")
_PRODUCT_FIELDS = ("name_en", "name_th", "edition_lang", "listing_tag", "category_th", "min_players", "max_players",
                   "min_minutes", "max_minutes", "min_age", "list_price_satang", "sale_price_satang", "weight_grams",
                   "url", "game_id")


def _upsert_games(session: Session, games: dict[int, dict], report: LoadReport) -> None:
    columns = [getattr(Game, name) for name in ("id",) + _GAME_FIELDS]
    existing = {row[0]: tuple(row[1:]) for row in session.execute(select(*columns))}
    new, changed = [], []
    for game_id, game in games.items():
        values = tuple(_same_number(game[name]) for name in _GAME_FIELDS)
        if game_id not in existing:
            new.append(game)
        elif tuple(_same_number(v) for v in existing[game_id]) != values:
            changed.append(game)
    for start in range(0, len(new), 2000):
        session.execute(insert(Game), new[start:start + 2000])
    if changed:
        session.execute(update(Game), changed)
    report.games_inserted, report.games_updated = len(new), len(changed)


def _same_number(value):
    """Ratings come back from Numeric(4,2) rounded: compare at that precision."""
    return round(value, 2) if isinstance(value, float) else value


def _upsert_products(session: Session, products: dict[str, dict], report: LoadReport) -> dict[str, int]:
    existing = {p.sku: p for p in session.scalars(select(Product))}
    for sku, values in products.items():
        product = existing.get(sku)
        if product is None:
            session.add(Product(stock=0 if values["listing_tag"] == "Pre-Order" else demo_stock(sku), **values))
            report.products_inserted += 1
            continue
        if any(getattr(product, name) != values[name] for name in _PRODUCT_FIELDS):
            for name in _PRODUCT_FIELDS:
                setattr(product, name, values[name])
            report.products_updated += 1
    session.flush()
    return dict(session.execute(select(Product.sku, Product.id)).all())


def _sync_aliases(session: Session, aliases: dict[str, dict[str, str]], ids: dict[str, int], report: LoadReport) -> None:
    existing: dict[tuple[int, str], tuple[int, str]] = {
        (row.product_id, row.alias): (row.id, row.kind)
        for row in session.execute(select(ProductAlias.id, ProductAlias.product_id, ProductAlias.alias, ProductAlias.kind))
    }
    wanted = {(ids[sku], alias): kind for sku, names in aliases.items() for alias, kind in names.items()}
    stale = [alias_id for key, (alias_id, kind) in existing.items() if wanted.get(key) != kind]
    if stale:
        session.execute(delete(ProductAlias).where(ProductAlias.id.in_(stale)))
    fresh = [dict(product_id=pid, alias=alias, kind=kind) for (pid, alias), kind in wanted.items()
             if existing.get((pid, alias), (None, None))[1] != kind]
    if fresh:
        session.execute(insert(ProductAlias), fresh)
    report.aliases_inserted, report.aliases_deleted = len(fresh), len(stale)


def load_catalog(session: Session, data_dir: Path = DATA_DIR, *, snapshot: Path | None = None,
                 games_file: Path | None = None, thai_titles: Path | None = None,
                 links_file: Path | None = None, aliases_file: Path | None = None) -> LoadReport:
    """Upsert games, products (with verified BGG links and demo stock) and aliases. Caller commits."""
    report = LoadReport()
    games = read_games(games_file or data_dir / GAMES_FILE, report)
    merge_thai_titles(thai_titles or data_dir / THAI_TITLES_FILE, games, report)
    products = read_products(snapshot or data_dir / SNAPSHOT_FILE, report)
    links = read_links(links_file or data_dir / LINKS_FILE, products, games, report)
    for sku, product in products.items():
        product["game_id"] = links.get(sku)
    report.products_linked = len(links)
    aliases = read_aliases(aliases_file or data_dir / ALIASES_FILE, products, report)

    _upsert_games(session, games, report)
    ids = _upsert_products(session, products, report)
    _sync_aliases(session, aliases, ids, report)
    session.flush()
    if report.changed:
        from shop.search import invalidate_index

        invalidate_index()
    return report


def product_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Product)) or 0
