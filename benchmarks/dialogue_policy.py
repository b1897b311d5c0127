"""What the dialogue policies cost per turn: the same action predictions, timed on
trained models (e.g. with TEDPolicy and without), and which policy made each.

    python -m benchmarks.dialogue_policy MODEL.tar.gz [MODEL2.tar.gz ...] [--repeat 3]
        [--tests tests/test_conversations_en.yml tests/test_conversations_vi.yml]

The trackers are the conversation tests' (tests/test_conversations_*.yml), cut before
every bot action, so each model predicts exactly the turns `make rasa-test` checks.
Only the policy graph runs (MessageProcessor.predict_next_with_tracker): no NLU, no
action server. Prints, per model, the median time per prediction over --repeat rounds,
the share of predictions each policy won, and the accuracy against the tests.
"""

import argparse
import asyncio
from collections import Counter
import statistics
import time
from typing import List, Tuple

from rasa.core.agent import Agent
from rasa.core.test import _create_data_generator
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

TEST_FILES = ["tests/test_conversations_en.yml", "tests/test_conversations_vi.yml"]


def prefixes(agent: Agent, test_files: List[str]) -> List[Tuple[DialogueStateTracker, str]]:
    """(tracker just before a bot action, that action) for every action in the tests."""
    cases = []
    for path in test_files:
        generator = _create_data_generator(path, agent, use_conversation_test_files=True)
        for story in generator.generate_story_trackers():
            events = list(story.events)
            for i, event in enumerate(events):
                if not isinstance(event, ActionExecuted) or event.action_name == "action_listen" and i == 0:
                    continue
                if event.action_name in ("action_session_start",):
                    continue
                if not any(isinstance(e, UserUttered) for e in events[:i]):
                    continue
                tracker = DialogueStateTracker.from_events(story.sender_id, events[:i], agent.domain.slots)
                cases.append((tracker, event.action_name or event.action_text))
    return cases


async def measure(path: str, repeat: int, test_files: List[str]) -> dict:
    agent = Agent.load(path)
    cases = prefixes(agent, test_files)
    processor = agent.processor
    processor.predict_next_with_tracker(cases[0][0])  # warm-up (graph and TF functions)
    rounds, policies, right = [], Counter[str](), 0
    for n in range(repeat):
        started = time.perf_counter()
        for tracker, expected in cases:
            prediction = processor._predict_next_with_tracker(tracker)
            if n == 0:
                name = processor.domain.action_names_or_texts[prediction.max_confidence_index]
                right += name == expected
                policies[(prediction.policy_name or "none").split("_")[-1]] += 1
        rounds.append((time.perf_counter() - started) / len(cases))
    return {
        "model": path,
        "predictions": len(cases),
        "ms_per_prediction": 1000 * statistics.median(rounds),
        "spread_ms": 1000 * (max(rounds) - min(rounds)),
        "accuracy": right / len(cases),
        "policies": dict(policies),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--tests", nargs="+", default=TEST_FILES)
    args = parser.parse_args()
    for path in args.models:
        result = asyncio.run(measure(path, args.repeat, args.tests))
        print(
            f"{result['model']}: {result['predictions']} predictions, "
            f"{result['ms_per_prediction']:.1f} ms each (spread {result['spread_ms']:.1f} ms over "
            f"{args.repeat} rounds), accuracy {result['accuracy']:.3f}, won by {result['policies']}"
        )


if __name__ == "__main__":
    main()
