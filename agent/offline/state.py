"""The offline agent's memory of one chat, typed, stored in `Customer.state` as the same JSON keys as before.

Older rows (seven loose keys) load unchanged; a value of the wrong type is dropped rather than trusted,
and keys this version does not know are kept, so a newer or older process sharing the database loses
nothing.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields

# What the bot has just asked; the dialogue policy table (dialogue.POLICY) lists what each accepts.
EXPECTING = ("quantity", "fulfilment", "shipping_name", "shipping_phone", "shipping_address",
             "confirm_order", "confirm_cancel", "product_choice")


@dataclass
class DialogueState:
    expecting: str | None = None          # one of EXPECTING, or None: nothing asked
    pending_sku: str | None = None        # the product being talked about (shown or just added)
    pending_quantity: int | None = None   # asked "which edition?": the quantity already said
    last_skus: list[str] = field(default_factory=list)   # the cards last shown, in order
    last_added: list[str] = field(default_factory=list)  # what the previous turn put in the cart
    fulfilment: str | None = None         # "pickup" or "delivery" once chosen at checkout
    summary_total: int | None = None      # satang of the summary awaiting confirmation
    cancel_number: str | None = None      # the order a "yes" would cancel
    open_order: str | None = None         # the order awaiting payment, if this agent made it
    other: dict = field(default_factory=dict)   # keys of other versions, kept as they were

    @classmethod
    def from_dict(cls, data: dict | None) -> DialogueState:
        data = dict(data or {})
        state = cls()
        for f in fields(cls):
            if f.name == "other" or f.name not in data:
                continue
            value = data.pop(f.name)
            if f.name in ("last_skus", "last_added"):
                value = [v for v in value if isinstance(v, str)] if isinstance(value, list) else []
            elif f.name in ("pending_quantity", "summary_total"):
                value = value if isinstance(value, int) and not isinstance(value, bool) else None
            else:
                value = value if isinstance(value, str) else None
            setattr(state, f.name, value)
        if state.expecting not in EXPECTING:
            state.expecting = None
        state.other = data
        return state

    def to_dict(self) -> dict:
        out = dict(self.other)
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name != "other" and value not in (None, [], ""):
                out[f.name] = value
        return out

    def ask(self, expecting: str | None) -> None:
        self.expecting = expecting

    def forget_question(self) -> None:
        self.expecting = None
        self.pending_quantity = None
