"""`make eval`: the NLU's quality, our pipeline beside Rasa's default one, per language.

Pipelines: "ours" is config.yml; "default" is the config that `rasa init` writes (read
from the installed Rasa package at run time), whose empty pipeline Rasa fills with its
default components. Both learn from the same data/nlu, in the same run.

  1. Cross-validation on data/nlu: the same stratified folds (by language and intent)
     for both pipelines. Intent accuracy, macro-F1 and complaint-vs-not F1 per language,
     and a confusion matrix (docs/img/nlu-confusion-cv.png).
  2. Models trained on all of data/nlu (ours: models/service-recovery.tar.gz from
     `make train`; default: models/default-pipeline.tar.gz, trained here when missing or
     older than the data), measured on ../shared/eval/external.jsonl (never trained on)
     and on benchmarks/heldout_entities.yml (entity precision/recall for order_id,
     email and phone; our own writing, outside data/ so never trained on).

Prints the tables; writes results/eval/nlu.json and the NLU section of docs/benchmarks.md.
"""

import argparse
from collections import Counter
import datetime
import json
from pathlib import Path
import shutil
import sys
import tempfile
import time
from typing import Dict, List, Tuple

from benchmarks.metrics import (complaint_figures, entity_figures, entity_set, external_figures,
                                intent_figures, is_complaint)
from benchmarks.parsing import parse_all, quiet_rasa
from benchmarks.report import IMAGES, machine, table, write_section

ROOT = Path(__file__).resolve().parent.parent
LANGUAGES = ("en", "vi")
OUR_MODEL = ROOT / "models" / "service-recovery.tar.gz"
DEFAULT_MODEL = ROOT / "models" / "default-pipeline.tar.gz"
EXTERNAL = ROOT.parent / "shared" / "eval" / "external.jsonl"
HELDOUT = ROOT / "benchmarks" / "heldout_entities.yml"
OUT = ROOT / "results" / "eval"
PIPELINES = ("ours", "default")


def default_config() -> Path:
    """The config.yml that `rasa init` puts in a new project."""
    import rasa.cli

    return Path(rasa.cli.__file__).parent / "initial_project" / "config.yml"


def config_of(pipeline: str) -> Path:
    return ROOT / "config.yml" if pipeline == "ours" else default_config()


def load_examples() -> List[Tuple[str, object]]:
    """(language, message) for every intent example in data/nlu/<language>/."""
    from rasa.shared.nlu.training_data.loading import load_data

    return [(lang, message) for lang in LANGUAGES
            for message in load_data(str(ROOT / "data" / "nlu" / lang)).intent_examples]


def folds_of(examples, k: int) -> List[int]:
    from sklearn.model_selection import StratifiedKFold

    labels = [f"{lang}:{m.get('intent')}" for lang, m in examples]
    fold = [0] * len(examples)
    splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=42)
    for number, (_, test) in enumerate(splitter.split(labels, labels)):
        for index in test:
            fold[index] = number
    return fold


def train(pipeline: str, messages, workdir: Path, name: str) -> Path:
    """An NLU-only model of `pipeline` trained on `messages`."""
    from rasa.model_training import train_nlu
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLWriter
    from rasa.shared.nlu.training_data.training_data import TrainingData

    data = workdir / f"{name}.yml"
    RasaYAMLWriter().dump(str(data), TrainingData(training_examples=list(messages)))
    model = train_nlu(config=str(config_of(pipeline)), nlu_data=str(data), output=str(workdir),
                      fixed_model_name=name)
    if not model:
        raise RuntimeError(f"training {name} failed")
    return Path(model)


def cross_validate(examples, k: int, workdir: Path) -> Dict[str, dict]:
    folds = folds_of(examples, k)
    texts = [m.get("text") for _, m in examples]
    results = {}
    for pipeline in PIPELINES:
        predicted = [None] * len(examples)
        started = time.monotonic()
        for fold in range(k):
            print(f"==> cross-validation: {pipeline} pipeline, fold {fold + 1}/{k}", flush=True)
            model = train(pipeline, [m for (_, m), f in zip(examples, folds) if f != fold],
                          workdir, f"{pipeline}-fold{fold}")
            held = [i for i, f in enumerate(folds) if f == fold]
            for i, parsed in zip(held, parse_all(model, [texts[i] for i in held])):
                predicted[i] = parsed["intent"]["name"]
            model.unlink()
        results[pipeline] = {"predicted": predicted,
                             "minutes": round((time.monotonic() - started) / 60, 1)}
    return results


def cv_figures(examples, predicted) -> Dict[str, dict]:
    figures = {}
    for lang in LANGUAGES:
        pairs = [(m.get("intent"), p) for (l, m), p in zip(examples, predicted) if l == lang]
        gold, pred = zip(*pairs)
        figures[lang] = {**intent_figures(gold, pred),
                         "complaint": complaint_figures([is_complaint(g) for g in gold], pred)}
    return figures


def confusion_png(examples, results, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    from sklearn.metrics import confusion_matrix

    gold = [m.get("intent") for _, m in examples]
    labels = sorted(set(gold)) + ["nlu_fallback"]
    fig, axes = plt.subplots(1, len(PIPELINES), figsize=(9 * len(PIPELINES), 8.5))
    for ax, pipeline in zip(axes, PIPELINES):
        matrix = confusion_matrix(gold, results[pipeline]["predicted"], labels=labels)
        rows = matrix.sum(axis=1, keepdims=True)
        share = np.divide(matrix, rows, out=np.zeros(matrix.shape), where=rows > 0)
        ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
        for (i, j), count in np.ndenumerate(matrix):
            if count:
                ax.text(j, i, str(count), ha="center", va="center", fontsize=6,
                        color="white" if share[i, j] > 0.5 else "black")
        ax.set_xticks(range(len(labels)), labels, rotation=90, fontsize=7)
        ax.set_yticks(range(len(labels)), labels, fontsize=7)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        ax.set_title(f"{pipeline} pipeline (cross-validation, en + vi)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def ensure_default_model(examples, workdir: Path) -> Tuple[Path, bool]:
    """Rasa's default pipeline on all of data/nlu, retrained when the data is newer."""
    newest = max(p.stat().st_mtime for p in (ROOT / "data" / "nlu").rglob("*.yml"))
    if DEFAULT_MODEL.exists() and DEFAULT_MODEL.stat().st_mtime > newest:
        return DEFAULT_MODEL, False
    print("==> training the default pipeline on all of data/nlu", flush=True)
    model = train("default", [m for _, m in examples], workdir, "default-pipeline")
    DEFAULT_MODEL.parent.mkdir(exist_ok=True)
    shutil.move(str(model), DEFAULT_MODEL)
    return DEFAULT_MODEL, True


def full_models(models: Dict[str, Path]) -> Tuple[Dict[str, dict], Dict[str, dict]]:
    """External-set and held-out-entity figures of each model, loading each model once."""
    from rasa.shared.nlu.training_data.loading import load_data

    rows = []
    if EXTERNAL.exists():
        rows = [json.loads(line) for line in EXTERNAL.read_text(encoding="utf-8").splitlines() if line.strip()]
    else:
        print(f"external set not found at {EXTERNAL}: skipped", file=sys.stderr)
    messages = load_data(str(HELDOUT)).training_examples
    texts = [r["text"] for r in rows] + [m.get("text") for m in messages]
    parsed = {pipeline: parse_all(model, texts) for pipeline, model in models.items()}
    external = {pipeline: external_figures(rows, [p["intent"]["name"] for p in parses[:len(rows)]])
                for pipeline, parses in parsed.items()} if rows else {}
    entities = heldout_entities(messages, {pipeline: parses[len(rows):] for pipeline, parses in parsed.items()})
    return external, entities


def heldout_entities(messages, parsed: Dict[str, List[dict]]) -> Dict[str, dict]:
    from nlu.language import detect_language

    texts = [m.get("text") for m in messages]
    gold = [entity_set(m.get("entities") or []) for m in messages]
    language = [detect_language(t) for t in texts]
    figures = {}
    for pipeline, parses in parsed.items():
        predicted = [entity_set(p.get("entities") or []) for p in parses]
        figures[pipeline] = {"all": entity_figures(gold, predicted)}
        for lang in LANGUAGES:
            keep = [i for i, l in enumerate(language) if l == lang]
            figures[pipeline][lang] = entity_figures([gold[i] for i in keep], [predicted[i] for i in keep])
    figures["messages"] = {"all": len(messages), **Counter(l or "either" for l in language)}
    return figures


def markdown(report: dict) -> str:
    cv, ext, ent = report["cross_validation"], report["external"], report["entities"]
    lines = [
        "## NLU quality",
        "",
        f"`make eval` on {report['date']}; {report['machine']}.",
        "",
        "Two pipelines trained on the same `data/nlu` in the same run: **ours** (`config.yml`) "
        "and Rasa's **default** (the `config.yml` that `rasa init` writes; its empty pipeline "
        "becomes Rasa's default components: whitespace tokens, regex, lexical and count-vector "
        "features, DIET with 100 epochs, fallback at 0.3).",
        "",
        f"### Cross-validation on data/nlu ({report['folds']} folds, stratified by language and intent, same folds for both)",
        "",
        table(["language", "examples", "pipeline", "intent accuracy", "intent macro-F1",
               "complaint-vs-not F1 (P / R)"],
              [[lang, cv["ours"][lang]["rows"], pipeline, cv[pipeline][lang]["accuracy"],
                f"**{cv[pipeline][lang]['macro_f1']}**",
                f"{cv[pipeline][lang]['complaint']['f1']} ({cv[pipeline][lang]['complaint']['precision']} / "
                f"{cv[pipeline][lang]['complaint']['recall']})"]
               for lang in LANGUAGES for pipeline in PIPELINES]),
        "",
        f"Training time for all folds: ours {cv['ours']['minutes']} min, default {cv['default']['minutes']} min.",
        "",
        "![Confusion matrices from cross-validation](img/nlu-confusion-cv.png)",
        "",
    ]
    if ext:
        lines += [
            "### External set (`../shared/eval/external.jsonl`, evaluation only)",
            "",
            "Models trained on all of data/nlu. English rows with one of our intents give the intent "
            "figures; every row gives complaint-vs-not (Vietnamese rows carry only that flag).",
            "",
            table(["language", "pipeline", "intent rows", "intent accuracy", "intent macro-F1",
                   "messages", "complaint-vs-not F1 (P / R)"],
                  [[lang, pipeline, ext[pipeline][lang].get("intent_rows"),
                    ext[pipeline][lang].get("intent_accuracy"), ext[pipeline][lang].get("intent_macro_f1"),
                    ext[pipeline][lang]["messages"],
                    f"{ext[pipeline][lang]['complaint_f1']} ({ext[pipeline][lang]['complaint_precision']} / "
                    f"{ext[pipeline][lang]['complaint_recall']})"]
                   for lang in LANGUAGES for pipeline in PIPELINES if lang in ext[pipeline]]),
            "",
        ]
    counts = ent["messages"]
    lines += [
        f"### Entities on our held-out set (`benchmarks/heldout_entities.yml`, {counts['all']} messages)",
        "",
        "A prediction counts when the entity type and its normalised value (digits of an order or "
        "phone number, the email in lower case) match the annotation. Ours extracts these with spaCy "
        "Matcher rules (`nlu/details.py`); the default pipeline learns them with DIET from the "
        f"annotations in data/nlu. Language by `nlu.language.detect_language`: {counts.get('en', 0)} en, "
        f"{counts.get('vi', 0)} vi, {counts.get('either', 0)} with no language evidence (bare numbers "
        "or addresses, counted only in \"all\").",
        "",
        table(["entity", "messages", "annotated", "ours precision", "ours recall",
               "default precision", "default recall"],
              [[name, scope, ent["ours"][scope][name]["gold"],
                ent["ours"][scope][name]["precision"], ent["ours"][scope][name]["recall"],
                ent["default"][scope][name]["precision"], ent["default"][scope][name]["recall"]]
               for name in ("order_id", "email", "phone") for scope in ("all",) + LANGUAGES]),
        "",
    ]
    return "\n".join(lines)


def print_summary(report: dict) -> None:
    cv, ext, ent = report["cross_validation"], report["external"], report["entities"]
    print(f"\nCross-validation on data/nlu ({report['folds']} folds)")
    print(f"{'lang':<5}{'pipeline':<9}{'accuracy':>9}{'macro-F1':>9}{'complaint F1':>13}")
    for lang in LANGUAGES:
        for p in PIPELINES:
            f = cv[p][lang]
            print(f"{lang:<5}{p:<9}{f['accuracy']:>9.3f}{f['macro_f1']:>9.3f}{f['complaint']['f1']:>13.3f}")
    if ext:
        print("\nExternal set (evaluation only)")
        print(f"{'lang':<5}{'pipeline':<9}{'accuracy':>9}{'macro-F1':>9}{'complaint F1':>13}")
        for lang in LANGUAGES:
            for p in PIPELINES:
                f = ext[p].get(lang)
                if f:
                    acc, mf1 = f.get("intent_accuracy"), f.get("intent_macro_f1")
                    print(f"{lang:<5}{p:<9}{'—' if acc is None else f'{acc:.3f}':>9}"
                          f"{'—' if mf1 is None else f'{mf1:.3f}':>9}{f['complaint_f1']:>13.3f}")
    print(f"\nEntities on the held-out set ({ent['messages']['all']} messages)")
    print(f"{'entity':<10}{'pipeline':<9}{'precision':>10}{'recall':>8}")
    for name in ("order_id", "email", "phone"):
        for p in PIPELINES:
            f = ent[p]["all"][name]
            print(f"{name:<10}{p:<9}{f['precision']:>10.3f}{f['recall']:>8.3f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=3)
    args = parser.parse_args()
    if not OUR_MODEL.exists():
        print(f"no model at {OUR_MODEL}: run `make train` (make eval does)", file=sys.stderr)
        return 2
    quiet_rasa()
    started = time.monotonic()
    examples = load_examples()
    print(f"==> {len(examples)} examples in data/nlu "
          f"({', '.join(f'{n} {l}' for l, n in Counter(l for l, _ in examples).items())})", flush=True)
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="nlu-eval-") as tmp:
        workdir = Path(tmp)
        results = cross_validate(examples, args.folds, workdir)
        default_model, retrained = ensure_default_model(examples, workdir)
    print("==> external set and held-out entities", flush=True)
    external, entities = full_models({"ours": OUR_MODEL, "default": default_model})
    report = {
        "date": datetime.date.today().isoformat(),
        "machine": machine(),
        "folds": args.folds,
        "cross_validation": {p: {**cv_figures(examples, results[p]["predicted"]),
                                 "minutes": results[p]["minutes"]} for p in PIPELINES},
        "external": external,
        "entities": entities,
        "default_model_retrained": retrained,
    }
    confusion_png(examples, results, IMAGES / "nlu-confusion-cv.png")
    report["minutes"] = round((time.monotonic() - started) / 60, 1)
    (OUT / "nlu.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    print_summary(report)
    doc = write_section("nlu", markdown(report))
    print(f"\n==> {report['minutes']} min; written to {doc.relative_to(ROOT)} and results/eval/nlu.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
