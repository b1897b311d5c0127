"""NLU report on the external evaluation set (../shared/eval/external.jsonl).

Evaluation only: the set is never used for training. Prints intent accuracy and
macro-F1 on the rows that carry one of our intents, and complaint-vs-not F1 per
language (a complaint should get a complain_* intent or request_human). It reports;
it does not gate. Writes the figures to results/external.json as well.
"""

import argparse
import asyncio
import json
from pathlib import Path
import sys
import time
from collections import Counter

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SET = ROOT.parent / "shared" / "eval" / "external.jsonl"


def is_complaint(intent: str) -> bool:
    return intent.startswith("complain_") or intent == "request_human"


def f1(tp: int, fp: int, fn: int) -> float:
    return 0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn)


def macro_f1(gold, predicted) -> float:
    labels = sorted(set(gold))
    scores = []
    for label in labels:
        tp = sum(1 for g, p in zip(gold, predicted) if g == label and p == label)
        fp = sum(1 for g, p in zip(gold, predicted) if g != label and p == label)
        fn = sum(1 for g, p in zip(gold, predicted) if g == label and p != label)
        scores.append(f1(tp, fp, fn))
    return sum(scores) / len(scores) if scores else 0.0


async def predict(model: Path, texts):
    import logging

    from rasa.core.agent import Agent
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    configure_logging_and_warnings(logging.WARNING)
    configure_structlog(logging.WARNING)  # no per-message debug lines

    agent = Agent.load(str(model))
    predictions = []
    for text in texts:
        parsed = await agent.parse_message(text)
        predictions.append(parsed["intent"]["name"])
    return predictions


def report(rows, predictions) -> dict:
    figures = {}
    for lang in sorted({r["lang"] for r in rows}):
        pairs = [(r, p) for r, p in zip(rows, predictions) if r["lang"] == lang]
        labelled = [(r["intent"], p) for r, p in pairs if r["intent"]]
        tp = sum(1 for r, p in pairs if r["complaint"] and is_complaint(p))
        fp = sum(1 for r, p in pairs if not r["complaint"] and is_complaint(p))
        fn = sum(1 for r, p in pairs if r["complaint"] and not is_complaint(p))
        entry = {
            "messages": len(pairs),
            "complaint_f1": round(f1(tp, fp, fn), 3),
            "complaint_precision": round(tp / (tp + fp), 3) if tp + fp else 0.0,
            "complaint_recall": round(tp / (tp + fn), 3) if tp + fn else 0.0,
        }
        if labelled:
            gold, pred = zip(*labelled)
            entry["intent_rows"] = len(labelled)
            entry["intent_accuracy"] = round(sum(g == p for g, p in labelled) / len(labelled), 3)
            entry["intent_macro_f1"] = round(macro_f1(gold, pred), 3)
            entry["per_intent_accuracy"] = {
                label: round(sum(1 for g, p in labelled if g == label and p == label) / count, 3)
                for label, count in sorted(Counter(gold).items())
            }
        figures[lang] = entry
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "service-recovery.tar.gz")
    parser.add_argument("--data", type=Path, default=DEFAULT_SET)
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "external.json")
    args = parser.parse_args()
    if not args.data.exists():
        print(f"external set not found at {args.data}: nothing to report", file=sys.stderr)
        return 0
    rows = [json.loads(line) for line in args.data.read_text(encoding="utf-8").splitlines() if line.strip()]
    started = time.monotonic()
    predictions = asyncio.run(predict(args.model, [r["text"] for r in rows]))
    elapsed = time.monotonic() - started
    figures = report(rows, predictions)
    print(f"\nExternal NLU evaluation: {len(rows)} messages from {args.data.name} "
          f"(parsed in {elapsed:.0f}s; evaluation only, never trained on)")
    print(f"{'lang':<5} {'msgs':>5} {'intent rows':>11} {'accuracy':>9} {'macro-F1':>9} "
          f"{'complaint F1':>13} {'P':>6} {'R':>6}")
    for lang, f in figures.items():
        print(f"{lang:<5} {f['messages']:>5} {f.get('intent_rows', 0):>11} "
              f"{f.get('intent_accuracy', float('nan')):>9.3f} {f.get('intent_macro_f1', float('nan')):>9.3f} "
              f"{f['complaint_f1']:>13.3f} {f['complaint_precision']:>6.3f} {f['complaint_recall']:>6.3f}")
        for label, acc in (f.get("per_intent_accuracy") or {}).items():
            print(f"        {label:<20} accuracy {acc:.3f}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
