"""A case: one complaint and what became of it (DESIGN.md "Take action", "follow up").

The action server opens and updates cases; the hub's console reads them (the customer
panel and the search, bot/search.py). Both go through contract/memory.py, which stores
each case as JSON under keys.case(ref). One type, one set of defaults: a case the
conversation has not opened yet is `Case.new(...)`, never a dict built on the spot.

A case stored before this model loads as it is: every field has a default, keys this
model does not know are kept (and written back), and the severity reasons of an older
case, which were English words, are kept as its notes.
"""

import secrets
import time
from typing import Any, Dict, List, Literal, Optional, get_args

from pydantic import BaseModel, Extra, Field, validator

from contract.handoff import SEVERITY_REASONS, RemedyAnswer, Severity

# How a case stands (the customer is told it in words: actions/cases.py).
Status = Literal["open", "handed_off", "remedy_in_progress", "agent_handled", "closed"]
OPEN, HANDED_OFF, REMEDY_IN_PROGRESS, AGENT_HANDLED, CLOSED = get_args(Status)

REF_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread


def new_case_ref() -> str:
    """A case reference the customer can read out: "SR-" and six characters."""
    return "SR-" + "".join(secrets.choice(REF_ALPHABET) for _ in range(6))


class Case(BaseModel):
    ref: str = Field(default_factory=new_case_ref)
    conversation_id: str = ""  # the conversation that opened it
    customer_id: str = ""  # the memory's record it belongs to (set when saved)
    complaint_type: Optional[str] = None
    status: Status = OPEN
    language: Optional[str] = None
    severity: Optional[Severity] = None  # as assessed when the complaint was acknowledged
    order_id: Optional[str] = None  # the order it is about, once proved the customer's
    item_checked: bool = False  # "is it this order?" was asked once (items not on it)
    carrier_trace: Optional[str] = None  # a lost parcel: the carrier asked to trace it
    offered: List[str] = []  # remedy ids offered
    answers: List[RemedyAnswer] = []  # the customer's answers to them
    applied_remedy: Optional[str] = None
    tasks: List[str] = []  # ids of the fulfilment tasks its promises made (contract/tasks.py)
    csat: Optional[int] = None
    csat_text: Optional[str] = None
    details: Dict[str, str] = {}  # every detail gathered, as the agent got them
    handoff: Optional[Dict[str, Any]] = None  # the handoff packet as sent (read_packet reads it)
    agent: str = ""  # the agent who handed it back, and their note
    agent_note: str = ""
    created_at: float = Field(default_factory=time.time)
    updated_at: float = 0.0

    class Config:
        extra = Extra.allow  # a stored key this model does not know survives a save

    @validator("severity", pre=True)
    def _older_severity(cls, value: Any) -> Any:
        """Before severity reasons were codes, a case kept them as English words: those
        are its notes now (what the packet's notes were made of)."""
        if isinstance(value, dict):
            reasons = [str(r) for r in value.get("reasons") or []]
            if any(r not in SEVERITY_REASONS for r in reasons):
                notes = list(value.get("notes") or []) + [r for r in reasons if r not in SEVERITY_REASONS]
                return {**value, "reasons": [r for r in reasons if r in SEVERITY_REASONS], "notes": notes}
        return value

    @classmethod
    def new(cls, conversation_id: str, complaint_type: Optional[str], **fields: Any) -> "Case":
        """A case this conversation opens now."""
        return cls(conversation_id=conversation_id, complaint_type=complaint_type, **fields)

    def changed(self, **changes: Any) -> "Case":
        """This case with `changes`, checked as a new one would be."""
        return type(self).parse_obj({**self.dict(), **changes})

    @property
    def closed(self) -> bool:
        return self.status == CLOSED

    def stored(self) -> str:
        """As Redis keeps it (keys.case(ref))."""
        return self.json(ensure_ascii=False)


def read_case(raw: Optional[str]) -> Optional[Case]:
    """The case stored as `raw` (None for nothing)."""
    return Case.parse_raw(raw) if raw else None
