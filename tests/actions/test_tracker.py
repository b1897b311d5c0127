"""Reading the tracker (actions/tracker.py)."""

from tests.actions.helpers import tracker, user_event


def test_the_agent_sees_that_the_customer_asked_how_their_case_stands(domain):
    from actions.tracker import intents_seen
    from bot.console.labels import ConsoleLabels

    trk = tracker(
        "s",
        "a person please",
        "request_human",
        history=[user_event("any update on my complaint?", "ask_case_status")],
    )
    assert intents_seen(trk) == ["ask_case_status", "request_human"]
    labels = ConsoleLabels().as_json()["labels"]["complaint_types"]
    assert all(labels["ask_case_status"].get(lang) for lang in ("en", "vi"))  # named in the console
