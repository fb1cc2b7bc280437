"""Bounded work on customers' images (issue 11, item 9): a 40-megapixel photo is scaled down while it
decodes and only a few full-size decodes run at once, so eight at a time no longer cost a gigabyte; and a
LINE download that hangs fails after LINE_TIMEOUT_SECONDS, not four times that (urllib3's retries)."""
from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from PIL import Image
from slip_images import encode, slip_page, slip_payload

from payments.slip_qr import read_slip_image
from shop.settings import load_settings
from webhooks.line_api import ContentError, LineApi

ROOT = Path(__file__).resolve().parent.parent
FORTY_MP = (7296, 5472)
DECODE_EIGHT_AT_ONCE = """
import resource, sys, threading
sys.path.insert(0, sys.argv[2])
from payments.slip_qr import read_slip_image
data = open(sys.argv[1], "rb").read()
read_slip_image(data)  # imports and first-use allocations out of the way
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
readings = []
threads = [threading.Thread(target=lambda: readings.append(read_slip_image(data))) for _ in range(8)]
for thread in threads: thread.start()
for thread in threads: thread.join()
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print((after - before) // 1024, sum(r.valid for r in readings))
"""


def forty_megapixel_slip_photo(fmt: str) -> bytes:
    """A slip lying in the middle of a 40-megapixel camera frame."""
    frame = Image.new("RGB", FORTY_MP, (200, 190, 180))
    page = slip_page(slip_payload(), width=2400, qr_px=12)
    frame.paste(page, ((FORTY_MP[0] - page.width) // 2, (FORTY_MP[1] - page.height) // 2))
    return encode(frame, fmt, **({"quality": 90} if fmt == "JPEG" else {"compress_level": 1}))


@pytest.mark.parametrize("fmt, limit_mb", [("JPEG", 250), ("PNG", 500)])
def test_eight_forty_megapixel_photos_at_once_stay_within_bounded_memory(tmp_path, fmt, limit_mb):
    path = tmp_path / f"photo.{fmt.lower()}"
    path.write_bytes(forty_megapixel_slip_photo(fmt))
    result = subprocess.run([sys.executable, "-c", DECODE_EIGHT_AT_ONCE, str(path), str(ROOT)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    grown_mb, valid = map(int, result.stdout.split())
    assert valid == 8  # the QR is still read from the reduced picture
    assert grown_mb < limit_mb, f"{grown_mb} MB for 8 concurrent decodes"


def test_a_large_jpeg_is_read_at_reduced_size():
    reading = read_slip_image(forty_megapixel_slip_photo("JPEG"))
    assert reading.valid and reading.trans_ref == "016330142045BPM05678"


@pytest.fixture
def silent_server():
    """Accepts connections and reads the request, then never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted = []

    def serve():
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            accepted.append(connection)

    threading.Thread(target=serve, daemon=True).start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}", accepted
    listener.close()
    for connection in accepted:
        connection.close()


def test_a_hanging_content_download_fails_after_one_timeout(silent_server):
    url, accepted = silent_server
    settings = load_settings(_env_file=None, app_env="test", line_api_base_url=url, line_timeout_seconds=0.5,
                             line_channel_access_token="t")
    line = LineApi(settings)
    started = time.monotonic()
    with pytest.raises(ContentError):
        line.get_content("1001", max_bytes=1000)
    elapsed = time.monotonic() - started
    line.close()
    assert elapsed < 1.2, f"{elapsed:.2f} s: the download was retried"
    assert len(accepted) == 1
