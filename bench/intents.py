"""Offline Thai NLU benchmark: intent and entity accuracy on tests/data/utterances.tsv, latency, baselines.

    PYTHAINLP_OFFLINE=1 .venv/bin/python bench/intents.py [--misses]

Prints intent accuracy on the main file (all / development part / held-out part, split as in
agent/offline/evaluation.py) and on the later sets (fresh, blind, final, round4: each written after a
round of rule changes), per-entity accuracy, per-intent accuracy with the confusions over every set,
p50/p99 latency per utterance after warm-up (rules-only and encoder paths apart), and two baselines
measured in the same process: the encoder's nearest exemplar alone, and the rules without the encoder.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from unittest import mock

os.environ.setdefault("PYTHAINLP_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agent.offline import encoder, nlu  # noqa: E402
from agent.offline.encoder import nearest_intent  # noqa: E402
from agent.offline.evaluation import Report, evaluate, load_labelled  # noqa: E402
from agent.offline.intents import Intent  # noqa: E402

DATA = ROOT / "tests" / "data" / "utterances.tsv"
# Later sets, each written after the previous round of rule changes (first sight recorded in docs/bench/intents.md).
LATER_SETS = (
    ("fresh", ROOT / "tests" / "data" / "utterances_fresh.tsv"),
    ("blind", ROOT / "tests" / "data" / "utterances_blind.tsv"),
    ("final", ROOT / "tests" / "data" / "utterances_final.tsv"),
    ("round4", ROOT / "tests" / "data" / "utterances_round4.tsv"),
)


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def encoder_only(text: str, *, expecting: str | None = None) -> nlu.Understanding:
    """Baseline: nearest intent exemplar by sentence embedding, nothing else."""
    cleaned = nlu.clean(text)
    if not cleaned:
        return nlu.Understanding(Intent.UNKNOWN, 0.0, nlu.Entities())
    intent, similarity = nearest_intent(cleaned)
    if similarity < nlu.ENCODER_THRESHOLD:
        intent = Intent.UNKNOWN
    return nlu.Understanding(intent, similarity, nlu.Entities())


def rules_only(text: str, *, expecting: str | None = None) -> nlu.Understanding:
    """Baseline: the full pipeline with the encoder switched off (silence -> UNKNOWN, ties -> rule order)."""
    with mock.patch.object(nlu, "_encoder_guess", lambda _text: (Intent.UNKNOWN, 0.0)), \
            mock.patch.object(nlu, "_tie_break", lambda _text, candidates: candidates[0]):
        return nlu.understand(text, expecting=expecting)


def line(label: str, report: Report) -> str:
    return f"| {label} | {report.correct}/{report.total} | {report.accuracy:.1%} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--misses", action="store_true", help="list every utterance with a wrong intent or entity")
    args = parser.parse_args()

    rows = load_labelled(DATA)
    dev = [row for row in rows if row.is_dev]
    held = [row for row in rows if not row.is_dev]
    later = [(name, load_labelled(path)) for name, path in LATER_SETS]

    started = time.perf_counter()
    nlu.warm_up()
    print(f"warm-up (tokenizer dictionary + encoder + exemplars): {time.perf_counter() - started:.2f} s")

    latencies: dict[str, list[float]] = {"rules only": [], "rules + encoder": []}
    encoder_used = [False]
    real_similarities = encoder.intent_similarities

    def counting_similarities(text: str):
        encoder_used[0] = True
        return real_similarities(text)

    def timed(text: str, *, expecting: str | None = None) -> nlu.Understanding:
        encoder_used[0] = False
        start = time.perf_counter()
        result = nlu.understand(text, expecting=expecting)
        elapsed = (time.perf_counter() - start) * 1000
        latencies["rules + encoder" if encoder_used[0] else "rules only"].append(elapsed)
        return result

    everything = rows + [row for _, set_rows in later for row in set_rows]
    with mock.patch.object(encoder, "intent_similarities", counting_similarities):
        combined = evaluate(everything, timed)
    full = evaluate(rows, nlu.understand)
    parts = [("all", rows, full), ("development part", dev, None), ("held-out part", held, None)]
    parts += [(f"{name} set", set_rows, None) for name, set_rows in later]
    systems = (("offline NLU", nlu.understand), ("baseline: encoder nearest exemplar", encoder_only),
               ("baseline: rules without encoder", rules_only))
    reports: dict[tuple[str, str], Report] = {}
    for part, part_rows, ready in parts:
        for system, function in systems:
            reports[(system, part)] = ready if (ready and system == "offline NLU") else evaluate(part_rows, function)

    sizes = ", ".join(f"{len(set_rows)} {name}" for name, set_rows in later)
    print(f"\n{len(rows)} labelled utterances: {len(dev)} development, {len(held)} held out; later sets: {sizes}\n")
    print("| part | " + " | ".join(system for system, _ in systems) + " |")
    print("| --- |" + " ---: |" * len(systems))
    for part, _, _ in parts:
        cells = [f"{reports[(system, part)].correct}/{reports[(system, part)].total} "
                 f"({reports[(system, part)].accuracy:.1%})" for system, _ in systems]
        print(f"| {part} | " + " | ".join(cells) + " |")

    ours = {part: reports[("offline NLU", part)] for part, _, _ in parts}
    later_parts = [f"{name} set" for name, _ in later]
    print("\n| entity | all | held-out | " + " | ".join(later_parts) + " | spurious (found, not labelled) |")
    print("| --- | ---: | ---: |" + " ---: |" * len(later_parts) + " ---: |")

    def cell(report: Report, name: str | None = None) -> str:
        ok = report.entity_ok[name] if name else sum(report.entity_ok.values())
        total = report.entity_total[name] if name else sum(report.entity_total.values())
        return f"{ok}/{total}" if total else "-"

    for name in sorted(full.entity_total, key=lambda n: -full.entity_total[n]):
        cells = [cell(ours[part], name) for part in ("all", "held-out part", *later_parts)]
        print(f"| {name} | " + " | ".join(cells) + f" | {full.spurious.get(name, 0)} |")
    cells = [cell(ours[part]) for part in ("all", "held-out part", *later_parts)]
    print("| **all entities** | " + " | ".join(cells) + " | |")

    print(f"\nper intent, all {len(everything)} utterances of every set:")
    print("\n| intent | n | accuracy | mistaken for |\n| --- | ---: | ---: | --- |")
    for intent in Intent:
        n = combined.per_intent[intent.value]
        if not n:
            continue
        wrong = [f"{got} ×{count}" for (expected, got), count in combined.confusion.most_common()
                 if expected == intent.value]
        print(f"| {intent.value} | {n} | {combined.per_intent_ok[intent.value] / n:.0%} | {', '.join(wrong) or '-'} |")

    print(f"\nlatency per utterance after warm-up, {len(everything)} calls:")
    print("\n| path | calls | p50 ms | p99 ms | max ms |\n| --- | ---: | ---: | ---: | ---: |")
    for path, values in (("all", latencies["rules only"] + latencies["rules + encoder"]), *latencies.items()):
        if values:
            print(f"| {path} | {len(values)} | {statistics.median(values):.2f} | {percentile(values, 99):.2f} | "
                  f"{max(values):.2f} |")

    if args.misses:
        print("\nmisses (expected -> got):")
        misses = [(row, got, "dev " if row.is_dev else "held") for row, got in full.misses]
        for part in later_parts:
            misses += [(row, got, part) for row, got in ours[part].misses]
        for row, got, part in misses:
            found = {k: v for k, v in vars(got.entities).items() if v not in (None, False)}
            print(f"  [{part}] {row.text!r} exp={row.expecting} {row.intent} -> {got.intent.value} "
                  f"labelled={row.entities} got={found}")


if __name__ == "__main__":
    main()
