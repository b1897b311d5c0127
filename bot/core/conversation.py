"""One conversation as the hub keeps it (a Redis hash, read by the store in
core/conversations.py, the only writer): its state, channel, identity, language, agent,
handoff packet and times; and how the console's queue shows it."""

from dataclasses import dataclass, field
from enum import Enum
import json
from typing import Any, Dict, Mapping, Optional

from contract.handoff import HandoffPacket, read_packet


class State(str, Enum):
    BOT = "bot"  # the assistant answers
    QUEUED = "queued"  # waiting for a person
    AGENT = "agent"  # an agent has it
    CLOSED = "closed"  # resolved; a new message reopens it with the bot

    @classmethod
    def read(cls, value: Optional[str]) -> "State":
        try:
            return cls(value or cls.BOT.value)
        except ValueError:
            return cls.BOT


def trust_label(identity: Mapping[str, Any], packet: Optional[HandoffPacket] = None) -> str:
    """How agents see who they are talking to (the handoff packet knows when the
    customer proved an order with its email or phone)."""
    if identity.get("shop_customer"):
        return "verified (shop sign-in)"
    if packet is not None and packet.customer.verified:
        return "verified (order and contact)"
    if identity.get("psid"):
        return "Messenger PSID"
    if identity.get("zalo_user"):
        return "Zalo user id"
    return "guest"


@dataclass
class Conversation:
    id: str
    state: State = State.BOT
    channel: str = ""
    identity: Dict[str, Any] = field(default_factory=dict)
    language: str = "en"
    agent: str = ""
    severity: str = ""
    packet: Optional[Dict[str, Any]] = None
    queued_at: float = 0.0
    created_at: float = 0.0
    updated_at: float = 0.0
    followup: str = ""
    note: str = ""

    @classmethod
    def from_hash(cls, cid: str, data: Dict[str, str]) -> "Conversation":
        return cls(
            id=cid,
            state=State.read(data.get("state")),
            channel=data.get("channel", ""),
            identity=json.loads(data.get("identity") or "{}"),
            language=data.get("language") or "en",
            agent=data.get("agent", ""),
            severity=data.get("severity", ""),
            packet=json.loads(data["packet"]) if data.get("packet") else None,
            queued_at=float(data.get("queued_at") or 0),
            created_at=float(data.get("created_at") or 0),
            updated_at=float(data.get("updated_at") or 0),
            followup=data.get("followup", ""),
            note=data.get("note", ""),
        )

    @property
    def just_created(self) -> bool:
        """Read right after get_or_create made it (which stamps both times at once)."""
        return bool(self.created_at) and self.created_at == self.updated_at

    def handoff(self) -> Optional[HandoffPacket]:
        """The packet, typed; None without one or for one this hub cannot read."""
        return read_packet(self.packet)

    def owned_by(self, agent: str) -> bool:
        return self.state is State.AGENT and self.agent == agent

    def summary(self) -> Dict[str, Any]:
        """What the queue view shows (from a packet this hub reads; else only the hash)."""
        packet = self.handoff()
        order_id = ""
        if packet is not None:
            order_id = str((packet.order or {}).get("order_id") or packet.details.get("order_id") or "")
        return {
            "id": self.id,
            "state": self.state.value,
            "channel": self.channel,
            "trust": trust_label(self.identity, packet),
            "shop_customer": self.identity.get("shop_customer"),
            "language": self.language,
            "agent": self.agent,
            "severity": self.severity or "unknown",
            "queued_at": self.queued_at,
            "updated_at": self.updated_at,
            "reason": packet.reason if packet else "",
            "summary": packet.summary.en if packet else "",
            "complaint_type": packet.complaint_type if packet else None,
            "followup": self.followup,
            # For the console's queue card: a name only when the customer is verified.
            "customer_name": packet.customer.name if packet and packet.customer.verified else "",
            "severity_reasons": packet.severity.reasons if packet else [],
            "repeat_contact": packet.repeat_contact if packet else False,
            "order_id": order_id,
        }
