"""PromptPay payload and QR PNG generation time.

    .venv/bin/python bench/promptpay.py [--rounds 200]

Baseline in the same process: `qrcode.make(payload)` saved as PNG (the qrcode package's own path,
no caption), against our `render_qr_png` with and without the Thai caption.
"""
from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import qrcode  # noqa: E402

from payments.promptpay import build_payload, parse_payload  # noqa: E402
from payments.qr_image import render_preview_png, render_qr_png  # noqa: E402


def timed(function, rounds: int) -> tuple[float, float]:
    samples = []
    for index in range(rounds):
        start = time.perf_counter()
        function(index)
        samples.append(time.perf_counter() - start)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(0.99 * (len(samples) - 1)))]


def baseline_png(payload: str) -> bytes:
    buffer = io.BytesIO()
    qrcode.make(payload).save(buffer)
    return buffer.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    rounds = args.rounds
    payloads = [build_payload("0812345678", 10_000 + index) for index in range(rounds)]
    png = render_qr_png(payloads[0], amount_satang=10_000, caption="ร้านบอร์ดเกมตัวอย่าง")

    rows = [
        ("build_payload (with amount)", timed(lambda i: build_payload("0812345678", 10_000 + i), rounds * 10), 1e6, "µs"),
        ("parse_payload", timed(lambda i: parse_payload(payloads[i % rounds]), rounds * 10), 1e6, "µs"),
        ("baseline qrcode.make + PNG", timed(lambda i: baseline_png(payloads[i]), rounds), 1e3, "ms"),
        ("render_qr_png, no caption", timed(lambda i: render_qr_png(payloads[i]), rounds), 1e3, "ms"),
        ("render_qr_png, amount + shop name", timed(
            lambda i: render_qr_png(payloads[i], amount_satang=10_000 + i, caption="ร้านบอร์ดเกมตัวอย่าง"), rounds), 1e3, "ms"),
        ("render_preview_png", timed(lambda i: render_preview_png(png), rounds), 1e3, "ms"),
    ]
    print(f"{'step':<36}{'p50':>10}{'p99':>10}")
    for name, (p50, p99), scale, unit in rows:
        print(f"{name:<36}{p50 * scale:>8.1f}{unit:>2}{p99 * scale:>8.1f}{unit:>2}")
    print(f"PNG sizes: original {len(png):,} bytes, preview {len(render_preview_png(png)):,} bytes")


if __name__ == "__main__":
    main()
