"""What an agent hands back to the turn pipeline, whichever agent answered."""
from __future__ import annotations

from dataclasses import dataclass, field

from agent import actions


@dataclass(frozen=True)
class Suggestion:
    """A next step offered as a quick-reply chip: either a text the customer 'says' or a postback."""

    label: str  # ≤ 20 characters (LINE)
    text: str | None = None
    action: str | None = None
    params: tuple[tuple[str, str], ...] = ()
    display: str | None = None

    @classmethod
    def say(cls, label: str, text: str | None = None) -> Suggestion:
        return cls(label=label, text=text or label)

    @classmethod
    def do(cls, label: str, action: str, display: str | None = None, **params: object) -> Suggestion:
        return cls(label=label, action=action, display=display or label,
                   params=tuple((k, str(v)) for k, v in params.items() if v is not None))

    def to_action(self) -> dict:
        if self.action:
            return {"type": "postback", "label": self.label[:20],
                    "data": actions.encode(self.action, **dict(self.params)),
                    "displayText": (self.display or self.label)[:300]}
        return {"type": "message", "label": self.label[:20], "text": (self.text or self.label)[:300]}


@dataclass
class ToolCall:
    name: str
    arguments: dict
    result: dict

    @property
    def ok(self) -> bool:
        return not (isinstance(self.result, dict) and self.result.get("error"))


@dataclass
class TurnReply:
    """Thai text for the customer, the tool calls made this turn (they decide the attachments: cards,
    QR image, receipt), and the next steps to offer as quick replies."""

    text: str
    tool_calls: list[ToolCall] = field(default_factory=list)
    suggestions: list[Suggestion] = field(default_factory=list)
    show_cart: bool = False       # attach the cart bubble from the last view_cart result
    show_summary: dict | None = None  # an order summary awaiting the customer's confirmation
    agent: str = "offline"
