"""The offline Thai agent: understanding (intents and entities) without an LLM or a GPU.

`understand(text, expecting=...)` is the entry point the dialogue manager uses.
"""
from agent.offline.intents import Intent
from agent.offline.nlu import Entities, Understanding, understand, warm_up

__all__ = ["Entities", "Intent", "Understanding", "understand", "warm_up"]
