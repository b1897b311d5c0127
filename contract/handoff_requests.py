"""The assistant's handoff, told to the hub the moment it is decided.

The handoff packet reaches the hub twice: first as this early word, published by the
action that decides (actions/handoff.py `hand_off`) on keys.HANDOFF_REQUESTS, then in
Rasa's reply to the turn (the custom payload {"handoff": ...}), which the hub relays
once Rasa has finished the turn. The early word lets the agents' queue (and their
console's live feed) have the conversation without waiting for the rest of the turn;
the relay tells the customer their place. Both carry the same packet, and the hub queues
a handoff once by its key (HandoffPacket.key): whichever comes first queues it, the
other adds nothing (bot/core/handoffs.py, through ConversationStore, the one writer of
conversation state).

Pub/sub, so every hub process hears it and the store's atomic step lets one queue it.
It is a head start only: a word nobody heard (no hub listening, Redis away) changes
nothing, the relay queues the conversation as before. Only a conversation the hub
already has is queued by it (Rasa reached directly, as `make rasa-test` does, is not).
"""

import json
import logging
from typing import Any, Optional, Tuple

from contract import keys
from contract.handoff import HandoffPacket, read_packet

log = logging.getLogger(__name__)


def request(conversation_id: str, packet: HandoffPacket) -> str:
    """The word as published: the conversation (Rasa's sender id, the hub's conversation
    id) and the packet."""
    return json.dumps({"conversation_id": conversation_id, "packet": packet.payload()}, ensure_ascii=False)


def read_request(data: Any) -> Optional[Tuple[str, HandoffPacket]]:
    """The conversation and the typed packet of a word (as published, or its JSON read),
    or None for anything else."""
    if isinstance(data, (str, bytes)):
        try:
            data = json.loads(data)
        except ValueError:
            return None
    if not isinstance(data, dict) or not isinstance(data.get("conversation_id"), str):
        return None
    packet = read_packet(data.get("packet"))
    if packet is None or not data["conversation_id"]:
        return None
    return data["conversation_id"], packet


async def announce(redis, conversation_id: str, packet: HandoffPacket) -> None:
    """Publish the word. Never breaks the turn: Redis trouble is logged, the relay follows."""
    try:
        await redis.publish(keys.HANDOFF_REQUESTS, request(conversation_id, packet))
    except Exception as error:  # redis errors, a closed loop: the turn's relay still queues it
        log.warning("early handoff word for %s not sent: %s", conversation_id, error)
