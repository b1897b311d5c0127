"""Where a customer can be reached, from what this conversation holds: the handoff
packet (details given, or a verified customer's record) and what they typed here.

Email follow-up writes only to an address we know is the customer's (`verified_email`:
on a verified customer's record, or the details' email marked verified) or one the
customer confirmed for it ("Email me", then yes or an address: aftercare/choices.py,
kept as the conversation's `followup_email`). An address merely typed (a friend's, a
typo, a stranger's on a shared computer) is only a candidate to confirm (`email_of`).
"""

import re
from typing import Any, Dict, Iterable, Optional

from contract.handoff import HandoffPacket

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
# Vietnamese mobiles (0912 345 678, +84 912 345 678) and other international numbers.
PHONE = re.compile(r"(?<![\w+])(?:\+?\d[\d .-]{7,16}\d)(?!\w)")


def packet_email(packet: Optional[HandoffPacket]) -> str:
    email = packet.details.get("email", "") if packet else ""
    return email.strip() if EMAIL.fullmatch(email.strip()) else ""


def verified_email(packet: Optional[HandoffPacket]) -> str:
    """A verified customer's address on record, or the details' email marked verified."""
    if packet is None:
        return ""
    on_record = packet.customer.email.strip() if packet.customer.verified else ""
    given = packet.details.get("email", "").strip() if packet.details_trust.get("email") == "verified" else ""
    return next((email for email in (on_record, given) if EMAIL.fullmatch(email)), "")


def follow_up_email(packet: Optional[HandoffPacket], confirmed: str) -> str:
    """Where email follow-up may write: a verified address, else the one the customer
    confirmed, else nowhere ("")."""
    return verified_email(packet) or (confirmed if EMAIL.fullmatch(confirmed or "") else "")


def email_of(packet: Optional[HandoffPacket], transcript: Iterable[Dict[str, Any]] = ()) -> str:
    """A candidate to confirm: the packet's email, or else the last one the customer
    typed in this conversation."""
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
