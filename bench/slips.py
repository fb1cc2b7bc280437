"""Slip QR decoding benchmark: decode rate and time on a generated corpus of slip-like images.

    .venv/bin/python bench/slips.py [--count 300] [--seed 1]

Corpus (tests/slip_images.py): a bank-app style slip with the mini QR in the corner, then what phones do
to it: 1080x2340 screenshots with status bars (PNG and JPEG), and photos with rotation, blur, JPEG
compression, downscaling and perspective. Each image is read by `read_slip_image` (our pipeline) and,
as a baseline in the same process, by one plain `zxingcpp.read_barcodes` call on the whole image.
"""
from __future__ import annotations

import argparse
import io
import random
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import zxingcpp  # noqa: E402
from PIL import Image  # noqa: E402
from slip_images import encode, photo, screenshot, slip_page, slip_payload  # noqa: E402

from payments.slip_qr import read_slip_image  # noqa: E402

BANKS = ["002", "004", "006", "011", "014", "025", "030", "069"]


def _ref(rng: random.Random) -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
    return "".join(rng.choice(alphabet) for _ in range(rng.choice([18, 20, 22, 25])))


def corpus(count: int, seed: int):
    """Yield (category, expected transRef, image bytes)."""
    rng = random.Random(seed)
    categories = ["screenshot_png", "screenshot_jpeg", "photo_mild", "photo_rotated", "photo_hard", "photo_small"]
    for index in range(count):
        category = categories[index % len(categories)]
        ref = _ref(rng)
        page = slip_page(slip_payload(rng.choice(BANKS), ref), width=rng.choice([900, 1000, 1080]),
                         qr_px=rng.choice([3, 4, 5]), rng=rng)
        if category == "screenshot_png":
            data = encode(screenshot(page), "PNG")
        elif category == "screenshot_jpeg":
            data = encode(screenshot(page), "JPEG", quality=rng.randint(60, 92))
        elif category == "photo_mild":
            image = photo(page, rng, angle=rng.uniform(-5, 5), blur=rng.uniform(0, 0.8),
                          jpeg_quality=rng.randint(60, 90))
            data = encode(image.convert("RGB"), "JPEG", quality=90)
        elif category == "photo_rotated":
            image = photo(page, rng, angle=rng.choice([90, 180, 270]) + rng.uniform(-20, 20),
                          skew=rng.uniform(0, 0.1))
            data = encode(image.convert("RGB"), "JPEG", quality=rng.randint(60, 90))
        elif category == "photo_hard":
            image = photo(page, rng, angle=rng.uniform(-25, 25), blur=rng.uniform(0.5, 1.6),
                          skew=rng.uniform(0.05, 0.15), scale=rng.uniform(0.6, 1.0), jpeg_quality=rng.randint(35, 70))
            data = encode(image.convert("RGB"), "JPEG", quality=85)
        else:  # photo_small: the whole slip downscaled, QR modules near one pixel
            image = photo(page, rng, scale=rng.uniform(0.35, 0.6), jpeg_quality=rng.randint(70, 92))
            data = encode(image.convert("RGB"), "JPEG", quality=90)
        yield category, ref, data


def baseline(data: bytes) -> list[str]:
    with Image.open(io.BytesIO(data)) as image:
        return [r.text for r in zxingcpp.read_barcodes(image.convert("L"), formats=zxingcpp.BarcodeFormat.QRCode)]


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    ours, base = defaultdict(list), defaultdict(list)   # category -> [(ok, ms)]
    for category, ref, data in corpus(args.count, args.seed):
        start = time.perf_counter()
        reading = read_slip_image(data)
        ours[category].append((reading.valid and reading.trans_ref == ref, (time.perf_counter() - start) * 1000))
        start = time.perf_counter()
        texts = baseline(data)
        base[category].append((any(ref in text for text in texts), (time.perf_counter() - start) * 1000))

    print(f"{'category':<17}{'n':>5}{'decoded':>9}{'p50 ms':>9}{'p99 ms':>9}   baseline: {'decoded':>8}{'p50 ms':>9}")
    for category in ours:
        rows, brows = ours[category], base[category]
        times, btimes = [ms for _, ms in rows], [ms for _, ms in brows]
        print(f"{category:<17}{len(rows):>5}{sum(ok for ok, _ in rows) / len(rows):>9.1%}"
              f"{statistics.median(times):>9.1f}{percentile(times, 0.99):>9.1f}   "
              f"{'':>9}{sum(ok for ok, _ in brows) / len(brows):>8.1%}{statistics.median(btimes):>9.1f}")
    everything = [row for rows in ours.values() for row in rows]
    bev = [row for rows in base.values() for row in rows]
    screenshots = [ms for category in ("screenshot_png", "screenshot_jpeg") for _, ms in ours[category]]
    print(f"{'all':<17}{len(everything):>5}{sum(ok for ok, _ in everything) / len(everything):>9.1%}"
          f"{statistics.median([ms for _, ms in everything]):>9.1f}{percentile([ms for _, ms in everything], 0.99):>9.1f}   "
          f"{'':>9}{sum(ok for ok, _ in bev) / len(bev):>8.1%}{statistics.median([ms for _, ms in bev]):>9.1f}")
    print(f"1080x2340 screenshots: p50 {statistics.median(screenshots):.1f} ms (target < 50 ms); "
          f"overall decode rate {sum(ok for ok, _ in everything) / len(everything):.1%} (target >= 99 %)")


if __name__ == "__main__":
    main()
