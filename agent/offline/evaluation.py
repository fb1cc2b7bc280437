"""Scoring the offline NLU against a labelled utterance file (used by bench/intents.py and the tests).

File format (TSV, header row): text, intent, entities (compact JSON of the entities a reader would
expect; keys left out are not scored), expecting (optional dialogue hint). A literal "\\n" in the
text stands for a line break (a pasted shipping block).

Held-out split: an utterance is in the development part when crc32(text) % 10 < 4 (~40 %); rules were
only tuned on failures in that part, so accuracy on the rest is the honest figure.
"""
from __future__ import annotations

import csv
import json
import re
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from rapidfuzz import fuzz

from agent.offline.nlu import Entities, Understanding

ENTITY_FIELDS = tuple(Entities.__dataclass_fields__)
TEXT_FIELDS = ("product_query", "name", "address")


@dataclass(frozen=True)
class Labelled:
    text: str
    intent: str
    entities: dict
    expecting: str | None

    @property
    def is_dev(self) -> bool:
        return zlib.crc32(self.text.encode("utf-8")) % 10 < 4


def load_labelled(path: str | Path) -> list[Labelled]:
    rows: list[Labelled] = []
    with open(path, encoding="utf-8", newline="") as handle:
        for line_no, row in enumerate(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE), start=2):
            try:
                entities = json.loads(row["entities"] or "{}")
            except json.JSONDecodeError as error:
                raise ValueError(f"{path}:{line_no}: entities are not JSON: {error}") from None
            unknown = set(entities) - set(ENTITY_FIELDS)
            if unknown:
                raise ValueError(f"{path}:{line_no}: unknown entity keys {sorted(unknown)}")
            rows.append(Labelled(text=(row["text"] or "").replace("\\n", "\n"), intent=row["intent"],
                                 entities=entities, expecting=(row.get("expecting") or None)))
    return rows


def _norm(value: str) -> str:
    return re.sub(r"\s+", "", value).lower()


def entity_matches(name: str, expected, got) -> bool:
    """Numbers and flags must be equal; free text (product, name, address) fuzzily equal (≥ 85)."""
    if name in TEXT_FIELDS:
        if expected is None or got is None:
            return expected == got
        return fuzz.ratio(_norm(str(expected)), _norm(str(got))) >= 85
    return expected == got


@dataclass
class Report:
    total: int = 0
    correct: int = 0
    confusion: Counter = field(default_factory=Counter)         # (expected, got) for misses
    per_intent: Counter = field(default_factory=Counter)        # expected -> count
    per_intent_ok: Counter = field(default_factory=Counter)
    entity_total: Counter = field(default_factory=Counter)
    entity_ok: Counter = field(default_factory=Counter)
    spurious: Counter = field(default_factory=Counter)          # numeric entity found where none was labelled
    misses: list[tuple[Labelled, Understanding]] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0


SPURIOUS_CHECKED = ("quantity", "players", "max_minutes", "age", "budget_max_satang", "phone", "order_number")


def evaluate(rows: list[Labelled], understand: Callable[..., Understanding]) -> Report:
    report = Report()
    for row in rows:
        got = understand(row.text, expecting=row.expecting)
        report.total += 1
        report.per_intent[row.intent] += 1
        if got.intent.value == row.intent:
            report.correct += 1
            report.per_intent_ok[row.intent] += 1
        else:
            report.confusion[(row.intent, got.intent.value)] += 1
            report.misses.append((row, got))
        for name, expected in row.entities.items():
            report.entity_total[name] += 1
            if entity_matches(name, expected, getattr(got.entities, name)):
                report.entity_ok[name] += 1
            elif (row, got) not in report.misses:
                report.misses.append((row, got))
        for name in SPURIOUS_CHECKED:
            if name not in row.entities and getattr(got.entities, name) is not None:
                report.spurious[name] += 1
    return report



# ---------------------------------------------------------------- dialogue acts (utterances_compound.tsv)
#
# Format (TSV, header row): text, acts, expecting. `acts` is a JSON list, one object per act in order:
# {"act": kind, "items": [[sku, quantity], ...], "topic": ..., "players": ..., ...}. An item's sku may
# list editions ("love-letter|love-letter-2025": any of them), "#2" means the second card shown and
# "#prev" the product in hand; quantity null means none was said. Keys left out are not scored.

ACT_FIELDS = ("players", "max_minutes", "age", "budget_max_satang", "budget_min_satang", "category", "fulfilment")


@dataclass(frozen=True)
class LabelledActs:
    text: str
    acts: list
    expecting: str | None


def load_labelled_acts(path: str | Path) -> list[LabelledActs]:
    rows = []
    with open(path, encoding="utf-8", newline="") as handle:
        for line_no, row in enumerate(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE), start=2):
            try:
                acts = json.loads(row["acts"])
            except json.JSONDecodeError as error:
                raise ValueError(f"{path}:{line_no}: acts are not JSON: {error}") from None
            rows.append(LabelledActs((row["text"] or "").replace("\\n", "\n"), acts, row.get("expecting") or None))
    return rows


def _item_matches(expected: list, got) -> bool:
    sku, quantity = expected
    if sku == "#prev":
        ok = got.refers_to_previous and not got.ordinal and not got.named
    elif sku.startswith("#"):
        ok = got.ordinal == int(sku[1:])
    else:
        ok = bool(got.skus) and set(got.skus) <= set(sku.split("|"))
    return ok and got.quantity == quantity


def act_matches(expected: dict, got) -> bool:
    if got.kind.value != expected["act"]:
        return False
    if "items" in expected:
        if len(expected["items"]) != len(got.items):
            return False
        if not all(_item_matches(e, g) for e, g in zip(expected["items"], got.items, strict=True)):
            return False
    if "topic" in expected and expected["topic"] not in got.topics:
        return False
    return all(getattr(got.entities, name) == expected[name] for name in ACT_FIELDS if name in expected)


@dataclass
class ActsReport:
    total: int = 0
    correct: int = 0
    kinds_correct: int = 0          # the right acts in the right order, items aside
    misses: list = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0


def evaluate_acts(rows: list[LabelledActs], read: Callable) -> ActsReport:
    """`read(text, expecting)` -> list of acts; a row counts when every act and its labelled fields match."""
    report = ActsReport()
    for row in rows:
        got = read(row.text, row.expecting)
        report.total += 1
        kinds = [a.kind.value for a in got] == [e["act"] for e in row.acts]
        report.kinds_correct += kinds
        if kinds and all(act_matches(e, g) for e, g in zip(row.acts, got, strict=True)):
            report.correct += 1
        else:
            report.misses.append((row, got))
    return report


def catalogue_reader(session) -> Callable:
    """`read(text, expecting)` -> acts, with the product mentions found by the catalogue's span search in
    `session` (as the offline agent's `find_products_in_text` tool does)."""
    from sqlalchemy import select

    from agent.offline.acts import read_acts
    from shop.models.catalog import Product
    from shop.search.spans import find_mentions

    skus = dict(session.execute(select(Product.id, Product.sku)).all())

    def spot(text: str) -> list[dict]:
        return [{"start": m.start, "end": m.end, "text": m.text, "skus": [skus[i] for i in m.product_ids if i in skus]}
                for m in find_mentions(session, text)]

    def read(text: str, expecting: str | None):
        return read_acts(text, expecting=expecting, spot=spot)

    return read
