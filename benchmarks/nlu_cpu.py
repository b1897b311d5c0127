"""CPU and time per message of a model's NLU: `python -m benchmarks.nlu_cpu MODEL [MODEL ...]`.

Each model is loaded once, warmed up on a few messages, then parses every message of the
frozen held-out intent sets (both languages) one at a time, as `rasa run` does for a
customer's message. Prints, per model: process CPU per message (user + system, all
threads, so a component's worker threads count), and wall time per message (p50, p95).
Run the models one after the other on a quiet machine; compare figures from one run.
"""

import argparse
import asyncio
import logging
from pathlib import Path
import statistics
import sys
import time

ROOT = Path(__file__).resolve().parent.parent
HELDOUT = [ROOT / "benchmarks" / f"heldout_intents_{lang}.yml" for lang in ("en", "vi")]


def messages():
    from rasa.shared.nlu.training_data.loading import load_data

    return [m.get("text") for path in HELDOUT for m in load_data(str(path)).training_examples]


async def measure(model: Path, texts):
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    for text in texts[:20]:
        await agent.parse_message(text)
    walls = []
    cpu_start = time.process_time()
    for text in texts:
        started = time.perf_counter()
        await agent.parse_message(text)
        walls.append(time.perf_counter() - started)
    cpu = time.process_time() - cpu_start
    walls.sort()
    return {
        "cpu_ms": 1000 * cpu / len(texts),
        "p50_ms": 1000 * statistics.median(walls),
        "p95_ms": 1000 * walls[int(0.95 * (len(walls) - 1))],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+", type=Path)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    texts = messages()
    print(f"{len(texts)} held-out messages, one at a time")
    print(f"{'model':<50}{'CPU ms/msg':>12}{'p50 ms':>9}{'p95 ms':>9}")
    for model in args.models:
        figures = asyncio.run(measure(model, texts))
        print(
            f"{str(model):<50}{figures['cpu_ms']:>12.1f}{figures['p50_ms']:>9.1f}{figures['p95_ms']:>9.1f}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
