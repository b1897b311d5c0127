"""Each channel's reply window, in one place: when the bot, or a person, may still write
to a customer on their channel, and when that stops.

| channel   | the bot may write                      | a person may write                         |
|-----------|----------------------------------------|--------------------------------------------|
| web, rest | always (no rule)                       | always                                     |
| messenger | 24 h after the customer's last message | 7 days (HUMAN_AGENT tag; Meta allows no    |
|           |                                        | other tag since 2026-04-27)                |
| zalo      | 48 h after the customer's last message, within the reply quota (8 messages,    |
|           | renewed each time the customer writes); past that only paid, pre-approved      |
|           | template messages, which the hub never sends                                   |

A channel reports where a conversation stands (`Channel.window`, built here from what the
channel knows: the customer's last message, replies used); the outbox asks it before
every follow-up (an agent's late reply, a notice, a hand-back) and, outside the window,
sends the follow-up elsewhere (email, or a call-back task for the team), never an
attempt that is sent to fail.
"""

from dataclasses import asdict, dataclass
from typing import Any, Dict, Optional

HOUR = 3600.0

MESSENGER_RESPONSE = 24 * HOUR
MESSENGER_HUMAN_AGENT = 7 * 24 * HOUR
ZALO_REPLY = 48 * HOUR
ZALO_REPLY_QUOTA = 8

OPEN = "open"
HUMAN_AGENT_ONLY = "human_agent_only"  # Messenger: 24 h passed, a person may still write
CLOSED = "closed"


@dataclass(frozen=True)
class Window:
    """Where one conversation stands in its channel's time rules."""

    channel: str
    state: str  # OPEN, HUMAN_AGENT_ONLY or CLOSED
    last_customer_at: float
    closes_at: Optional[float]  # when the current state ends (None: closed already)
    reason: str = ""  # why it is closed: "time", "quota" or "refused_by_zalo" (Zalo), "never_written"
    response_until: Optional[float] = None  # the bot's window (Messenger: 24 h; Zalo: 48 h)
    human_agent_until: Optional[float] = None  # a person's window (Messenger: 7 days)
    replies_left: Optional[int] = None  # Zalo's reply quota left in this window

    def allows(self, sender: str) -> bool:
        """Whether `sender` ("bot" or "agent") may write in the channel now."""
        return self.state == OPEN or (self.state == HUMAN_AGENT_ONLY and sender == "agent")

    def as_dict(self) -> Dict[str, Any]:
        return asdict(self)


def messenger(last_customer_at: float, now: float) -> Window:
    age = now - last_customer_at if last_customer_at else None
    response_until = last_customer_at + MESSENGER_RESPONSE if last_customer_at else None
    human_until = last_customer_at + MESSENGER_HUMAN_AGENT if last_customer_at else None
    if age is not None and age < MESSENGER_RESPONSE:
        state, closes_at, reason = OPEN, response_until, ""
    elif age is not None and age < MESSENGER_HUMAN_AGENT:
        state, closes_at, reason = HUMAN_AGENT_ONLY, human_until, ""
    else:
        state, closes_at, reason = CLOSED, None, "time" if last_customer_at else "never_written"
    return Window("messenger", state, last_customer_at, closes_at, reason, response_until, human_until)


def zalo(
    last_customer_at: float,
    now: float,
    replies_used: int,
    quota: int = ZALO_REPLY_QUOTA,
    refused: bool = False,
) -> Window:
    """`refused`: Zalo itself refused a message since the customer last wrote."""
    until = last_customer_at + ZALO_REPLY if last_customer_at else None
    left = max(quota - replies_used, 0)
    if not last_customer_at:
        state, reason = CLOSED, "never_written"
    elif now >= last_customer_at + ZALO_REPLY:
        state, reason = CLOSED, "time"
    elif left <= 0:
        state, reason = CLOSED, "quota"
    elif refused:
        state, reason = CLOSED, "refused_by_zalo"
    else:
        state, reason = OPEN, ""
    return Window(
        "zalo",
        state,
        last_customer_at,
        until if state == OPEN else None,
        reason,
        response_until=until,
        human_agent_until=until,
        replies_left=left,
    )


def window_of(
    channel: str, last_customer_at: float, now: float, replies_used: int = 0, quota: int = ZALO_REPLY_QUOTA
) -> Optional[Window]:
    """The window of a conversation on `channel`; None for channels without one (the
    widget keeps messages for the customer's return; REST callers fetch what they missed)."""
    if channel == "messenger":
        return messenger(last_customer_at, now)
    if channel == "zalo":
        return zalo(last_customer_at, now, replies_used, quota)
    return None


def allows(window: Optional[Window], sender: str) -> bool:
    return window is None or window.allows(sender)
