"""Cross-validates candidate NLU pipelines on data/nlu and prints their intent F1.

Each candidate is config.yml's pipeline with one change:
  whitespace      Rasa's WhitespaceTokenizer (tokens as typed)
  segmenting      nlu.components.VietnameseSegmentingTokenizer (spaCy/pyvi word
                  segmentation for Vietnamese, diacritic-folded lemmas)
  segmenting-bow  the same, with DIET's transformer layers off (bag of features)
Results: results/cv/<candidate>/intent_report.json, and a summary table printed and
written to results/cv/summary.json. Slow: folds x candidates trainings.
"""

import argparse
import copy
import json
import os
from pathlib import Path
import subprocess
import sys
import time

import yaml

ROOT = Path(__file__).resolve().parent.parent
SEGMENTING = "nlu.components.VietnameseSegmentingTokenizer"
CANDIDATES = {
    "whitespace": ("WhitespaceTokenizer", {}),
    "segmenting": (SEGMENTING, {}),
    "segmenting-bow": (SEGMENTING, {"number_of_transformer_layers": 0}),
}


def candidate_config(name: str) -> dict:
    tokenizer, diet = CANDIDATES[name]
    config = copy.deepcopy(yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8")))
    for component in config["pipeline"]:
        if component["name"].endswith("Tokenizer"):
            component["name"] = tokenizer
        if component["name"] == "DIETClassifier":
            component.update(diet)
    config.pop("policies", None)
    return config


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--candidates", nargs="+", default=list(CANDIDATES), choices=list(CANDIDATES))
    args = parser.parse_args()
    out = ROOT / "results" / "cv"
    out.mkdir(parents=True, exist_ok=True)
    summary = {}
    for name in args.candidates:
        config_path = out / f"config-{name}.yml"
        config_path.write_text(yaml.safe_dump(candidate_config(name), sort_keys=False))
        started = time.monotonic()
        subprocess.run([str(Path(sys.executable).parent / "rasa"), "test", "nlu",
                        "--nlu", "data/nlu", "--config", str(config_path),
                        "--cross-validation", "--folds", str(args.folds),
                        "--out", str(out / name)], cwd=ROOT, check=True,
                       env={**os.environ, "PYTHONPATH": str(ROOT)})
        report = json.loads((out / name / "intent_report.json").read_text())
        summary[name] = {
            "macro_f1": round(report["macro avg"]["f1-score"], 4),
            "weighted_f1": round(report["weighted avg"]["f1-score"], 4),
            "accuracy": round(report.get("accuracy", 0.0), 4),
            "minutes": round((time.monotonic() - started) / 60, 1),
        }
    previous = json.loads((out / "summary.json").read_text()) if (out / "summary.json").exists() else {}
    summary = {**previous, **summary}
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    print(f"\n{args.folds}-fold cross-validation on data/nlu (test folds)")
    print(f"{'candidate':<12} {'macro F1':>9} {'weighted F1':>12} {'accuracy':>9} {'minutes':>8}")
    for name, s in summary.items():
        print(f"{name:<12} {s['macro_f1']:>9.4f} {s['weighted_f1']:>12.4f} {s['accuracy']:>9.4f} {s['minutes']:>8}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
