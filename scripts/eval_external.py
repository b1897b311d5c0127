"""NLU report on the external evaluation set (../shared/eval/external.jsonl).

Evaluation only: the set is never used for training. Prints intent accuracy and
macro-F1 on the rows that carry one of our intents, and complaint-vs-not F1 per
language (a complaint should get a complain_* intent, request_human, or the "which of
these?" question the bot asks of a fallback or out-of-scope message that reads as a
complaint), as the bot acts. It reports;
it does not gate. Writes the figures to results/external.json as well.
"""

import argparse
import json
from pathlib import Path
import sys
import time

from actions.playbook import load_playbook
from scripts.nlu_eval import acted_intent, external_figures, parse_all

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SET = ROOT.parent / "shared" / "eval" / "external.jsonl"


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
    knobs = load_playbook().understanding  # the shop's, as the bot reads them
    predictions = [acted_intent(p, knobs) for p in parse_all(args.model, [r["text"] for r in rows])]
    elapsed = time.monotonic() - started
    figures = external_figures(rows, predictions)
    print(
        f"\nExternal NLU evaluation: {len(rows)} messages from {args.data.name} "
        f"(parsed in {elapsed:.0f}s; evaluation only, never trained on)"
    )
    print(
        f"{'lang':<5} {'msgs':>5} {'intent rows':>11} {'accuracy':>9} {'macro-F1':>9} "
        f"{'complaint F1':>13} {'P':>6} {'R':>6}"
    )
    for lang, f in figures.items():
        print(
            f"{lang:<5} {f['messages']:>5} {f.get('intent_rows', 0):>11} "
            f"{f.get('intent_accuracy', float('nan')):>9.3f} {f.get('intent_macro_f1', float('nan')):>9.3f} "
            f"{f['complaint_f1']:>13.3f} {f['complaint_precision']:>6.3f} {f['complaint_recall']:>6.3f}"
        )
        for label, acc in (f.get("per_intent_accuracy") or {}).items():
            print(f"        {label:<20} accuracy {acc:.3f}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
