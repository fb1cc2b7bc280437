"""The result of a journey run: pass rate, per-tag pass rates, pass^k, and each failure with its transcript.

pass^k (as in tau-bench): a journey counts only if all k of its runs passed, so a bot that passes a
journey three times out of four does not count it; the plain pass rate counts every run.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from simulator.journey_file import Journey, Step


@dataclass
class StepFailure:
    step: Step
    problems: list[str]


@dataclass
class JourneyRun:
    journey: Journey
    number: int                      # which of the k repeats, from 1
    failures: list[StepFailure] = field(default_factory=list)
    transcript: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return not self.failures


def _rate(passed: int, total: int) -> float:
    return round(100.0 * passed / total, 1) if total else 0.0


@dataclass
class Report:
    runs: list[JourneyRun]
    repeat: int = 1
    seconds: float = 0.0
    shop_visible: bool = True

    def journeys(self) -> list[Journey]:
        return list({run.journey.name: run.journey for run in self.runs}.values())

    def _runs_of(self) -> dict[str, list[JourneyRun]]:
        grouped: dict[str, list[JourneyRun]] = defaultdict(list)
        for run in self.runs:
            grouped[run.journey.name].append(run)
        return grouped

    def summary(self) -> dict:
        grouped = self._runs_of()
        journeys = self.journeys()
        all_passed = {name for name, runs in grouped.items() if all(r.passed for r in runs)}
        tags: dict[str, dict] = {}
        for tag in sorted({t for j in journeys for t in j.tags}):
            names = [j.name for j in journeys if tag in j.tags]
            tag_runs = [r for n in names for r in grouped[n]]
            tags[tag] = {"journeys": len(names), "runs": len(tag_runs),
                         "passed_runs": sum(r.passed for r in tag_runs),
                         "pass_rate": _rate(sum(r.passed for r in tag_runs), len(tag_runs)),
                         "pass_k": _rate(len(all_passed & set(names)), len(names))}
        passed = sum(r.passed for r in self.runs)
        return {"journeys": len(journeys), "repeat": self.repeat, "runs": len(self.runs), "passed_runs": passed,
                "pass_rate": _rate(passed, len(self.runs)),
                "pass_k_journeys": len(all_passed), "pass_k": _rate(len(all_passed), len(journeys)),
                "seconds": round(self.seconds, 1), "tags": tags}

    def failed_runs(self) -> list[JourneyRun]:
        """The first failed run of each journey that failed at least once (the others repeat it)."""
        return [next(r for r in runs if not r.passed) for runs in self._runs_of().values()
                if not all(r.passed for r in runs)]

    def to_json(self) -> dict:
        grouped = self._runs_of()
        return {**self.summary(),
                "results": [{"name": name, "tags": runs[0].journey.tags, "source": runs[0].journey.source,
                             "passed": [r.passed for r in runs],
                             "failures": [{"run": r.number, "step": f.step.index, "action": f.step.action,
                                           "value": f.step.value, "problems": f.problems}
                                          for r in runs for f in r.failures],
                             "transcript": next((r.transcript for r in runs if not r.passed), runs[0].transcript)}
                            for name, runs in grouped.items()]}

    def text(self, transcripts: bool = True) -> str:
        s = self.summary()
        k = self.repeat
        lines = [f"journeys: {s['journeys']} × {k} run(s) in {s['seconds']} s",
                 f"pass rate: {s['passed_runs']}/{s['runs']} runs ({s['pass_rate']} %)"]
        if k > 1:
            lines.append(f"pass^{k}: {s['pass_k_journeys']}/{s['journeys']} journeys passed all {k} runs "
                         f"({s['pass_k']} %)")
        if not self.shop_visible:
            lines.append("note: the service does not show its shop: cart, order and price checks could not run")
        lines.append("")
        width = max((len(t) for t in s["tags"]), default=3)
        lines.append(f"{'tag':<{width}}  journeys  passed runs   rate" + (f"  pass^{k}" if k > 1 else ""))
        for tag, row in s["tags"].items():
            lines.append(f"{tag:<{width}}  {row['journeys']:>8}  {row['passed_runs']:>5}/{row['runs']:<5} "
                         f"{row['pass_rate']:>5} %" + (f"  {row['pass_k']:>5} %" if k > 1 else ""))
        grouped = self._runs_of()
        for run in self.failed_runs():
            runs = grouped[run.journey.name]
            lines += ["", f"FAILED {run.journey.name} [{', '.join(run.journey.tags)}]"
                          + (f" — failed {sum(not r.passed for r in runs)} of {k} runs, this is run {run.number}"
                             if k > 1 else "") + f"  ({run.journey.source})"]
            for failure in run.failures:
                for problem in failure.problems:
                    lines.append(f"  {failure.step.describe()}: {problem}")
            if transcripts:
                lines.append("  transcript:")
                lines += [f"    {line}" for entry in run.transcript for line in entry.split("\n")]
        return "\n".join(lines)
