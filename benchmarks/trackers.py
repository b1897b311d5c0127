"""Checks that a conversation's events, as Rasa stored them in Redis, are whole and in
order: with two Rasa processes, a lock store that failed would show up as a message
handled while the previous one was still running, or as a message lost or doubled."""

import json
from typing import List, Optional

TRACKER_KEY = "rasatracker:tracker:"  # endpoints.yml key_prefix + Rasa's own "tracker:"


def stored_events(redis, conversation_id: str) -> Optional[List[dict]]:
    raw = redis.get(TRACKER_KEY + conversation_id)
    return None if raw is None else json.loads(raw).get("events", [])


def problems(events: List[dict], sent: List[str], ordered: bool = True) -> List[str]:
    """What is wrong with these events, for a customer who sent `sent` (empty: all well)."""
    found = []
    users = [str(e.get("text")) for e in events if e.get("event") == "user"]
    if ordered and users != sent:
        found.append(f"user messages {users} != sent {sent}")
    if not ordered and sorted(users) != sorted(sent):
        found.append(f"user messages {sorted(users)} != sent {sorted(sent)}")
    listening, acted = True, False
    last_time = 0.0
    for event in events:
        stamp = event.get("timestamp") or 0.0
        if stamp < last_time:
            found.append(f"event {event.get('event')} is older than the one before it")
        last_time = max(last_time, stamp)
        if event.get("event") == "user":
            if not listening:
                found.append(f"'{event.get('text')}' was handled while the previous turn was still running")
            listening, acted = False, False
        elif event.get("event") == "action":
            if event.get("name") == "action_listen":
                if not listening and not acted:
                    found.append("a turn ended without any bot action")
                listening = True
            elif event.get("name") != "action_session_start":
                acted = True
    if not listening:
        found.append("the last turn did not end with action_listen")
    return found
