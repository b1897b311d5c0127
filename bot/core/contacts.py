"""Where a customer can be reached, from what this conversation holds: the handoff
packet (details given, or a verified customer's record) and what they typed here."""

import re
from typing import Any, Dict, Iterable, Optional

from contract.handoff import HandoffPacket

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
# Vietnamese mobiles (0912 345 678, +84 912 345 678) and other international numbers.
PHONE = re.compile(r"(?<![\w+])(?:\+?\d[\d .-]{7,16}\d)(?!\w)")


def packet_email(packet: Optional[HandoffPacket]) -> str:
    email = packet.details.get("email", "") if packet else ""
    return email.strip() if EMAIL.fullmatch(email.strip()) else ""


def email_of(packet: Optional[HandoffPacket], transcript: Iterable[Dict[str, Any]] = ()) -> str:
    """The packet's email, or else the last one the customer typed in this conversation."""
    found = packet_email(packet)
    if found:
        return found
    for entry in reversed(list(transcript)):
        if entry.get("from") == "customer":
            match = EMAIL.search(entry.get("text", ""))
            if match:
                return match.group(0)
    return ""


def phone_on_record(packet: Optional[HandoffPacket]) -> str:
    """A verified customer's phone (packet.customer.phone), else one given in the case."""
    if packet is None:
        return ""
    for phone in (packet.customer.phone, packet.details.get("phone", "")):
        if sum(c.isdigit() for c in phone) >= 9:
            return phone.strip()
    return ""


def phone_in(text: str) -> str:
    match = PHONE.search(text or "")
    if not match or not 9 <= sum(c.isdigit() for c in match.group(0)) <= 15:
        return ""
    return match.group(0).strip()
