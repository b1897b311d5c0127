"""`make eval`: the NLU's quality, our pipeline beside Rasa's default one, per language.

Pipelines: "ours" is config.yml; "default" is the config that `rasa init` writes (read
from the installed Rasa package at run time), whose empty pipeline Rasa fills with its
default components. Both learn from the same data/nlu, in the same run.

Every intent figure is given twice: "as the bot acts" (the intent Rasa returns, so
nlu_fallback counts as wrong; where the bot still reads a fallback or out-of-scope message
as a complaint and asks "which of these?", a complaint of no intent) and "top real intent" (the intent that ranked first before
the FallbackClassifier replaced it). Per intent: F1 and the most frequent wrong predictions.

  1. Cross-validation on data/nlu: the same stratified folds (by language and intent)
     for both pipelines, --folds folds repeated for --seeds fold shuffles. Intent
     accuracy, macro-F1 and complaint-vs-not F1 per language over all predictions, their
     spread over the (seed, fold) runs, and a confusion matrix (docs/img/nlu-confusion-cv.png).
  2. Models trained on all of data/nlu (ours: models/service-recovery.tar.gz from
     `make train`; default: models/default-pipeline.tar.gz, trained here when missing or
     older than the data), measured on ../shared/eval/external.jsonl (never trained on;
     per language and per `source`), on benchmarks/heldout_intents_{en,vi}.yml (our frozen
     held-out intent set) and on benchmarks/heldout_entities.yml (entity precision/recall
     for order_id, email and phone, and its intents). Both held-out sets are our own
     writing, outside data/ so never trained on.

--folds 0 is the fast mode: no cross-validation, only the models trained on all of
data/nlu (held-out sets, external set), ours and default, in about 10-15 minutes.
--config PATH trains "ours" from that config (NLU only, on all of data/nlu) instead of
using models/service-recovery.tar.gz: for comparing a candidate pipeline; it writes only
results/eval/<name>.json (--name), never docs/benchmarks.md.

--sample N is the smoke mode (`make smoke`): N examples per language and intent to train
and cross-validate on (the default pipeline trained on them, not kept), the first N of
each language and label of the other sets; its figures mean nothing and never reach docs/.

Prints the tables; writes results/eval/nlu.json (--out DIR for another folder) and the
NLU section of docs/benchmarks.md (not with --no-docs, --sample or --config).
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
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from benchmarks.metrics import (
    by_source,
    entity_figures,
    entity_set,
    labelled_figures,
    spread,
    top_real_intent,
)
from benchmarks.report import IMAGES, machine, table, write_section
from contract.language import LANGUAGES
from scripts.nlu_eval import acted_intent, external_figures, parse_all, quiet_rasa

ROOT = Path(__file__).resolve().parent.parent
OUR_MODEL = ROOT / "models" / "service-recovery.tar.gz"
DEFAULT_MODEL = ROOT / "models" / "default-pipeline.tar.gz"
EXTERNAL = ROOT.parent / "shared" / "eval" / "external.jsonl"
HELDOUT = ROOT / "benchmarks" / "heldout_entities.yml"
# The language of a held-out intent message is the file it is in.
HELDOUT_INTENTS = {lang: ROOT / "benchmarks" / f"heldout_intents_{lang}.yml" for lang in LANGUAGES}
OUT = ROOT / "results" / "eval"
PIPELINES = ("ours", "default")
READINGS = ("acted", "top_real")
READING_NAMES = {"acted": "as the bot acts", "top_real": "top real intent"}
FIRST_SEED = 42


def default_config() -> Path:
    """The config.yml that `rasa init` puts in a new project."""
    import rasa.cli

    return Path(rasa.cli.__file__).parent / "initial_project" / "config.yml"


OUR_CONFIG = ROOT / "config.yml"


def config_of(pipeline: str) -> Path:
    return OUR_CONFIG if pipeline == "ours" else default_config()


def load_examples() -> List[Tuple[str, object]]:
    """(language, message) for every intent example in data/nlu/<language>/."""
    from rasa.shared.nlu.training_data.loading import load_data

    return [
        (lang, message)
        for lang in LANGUAGES
        for message in load_data(str(ROOT / "data" / "nlu" / lang)).intent_examples
    ]


def load_heldout_intents() -> Dict[str, list]:
    """Language -> the messages of benchmarks/heldout_intents_<language>.yml."""
    from rasa.shared.nlu.training_data.loading import load_data

    return {lang: load_data(str(path)).intent_examples for lang, path in HELDOUT_INTENTS.items()}


def folds_of(examples, k: int, seed: int = FIRST_SEED) -> List[int]:
    from sklearn.model_selection import StratifiedKFold

    labels = [f"{lang}:{m.get('intent')}" for lang, m in examples]
    fold = [0] * len(examples)
    splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
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
    model = train_nlu(
        config=str(config_of(pipeline)), nlu_data=str(data), output=str(workdir), fixed_model_name=name
    )
    if not model:
        raise RuntimeError(f"training {name} failed")
    return Path(model)


def readings(parses: Sequence[dict]) -> Dict[str, List[Optional[str]]]:
    """Both readings of each parse: what the bot makes of it (the intent Rasa returned,
    or "which of these?" where the bot asks, by the shop's playbook), and the top real
    intent."""
    from actions.playbook import load_playbook

    knobs = load_playbook().understanding
    return {
        "acted": [acted_intent(p, knobs) for p in parses],
        "top_real": [top_real_intent(p) for p in parses],
    }


def cross_validate(examples, k: int, seeds: int, workdir: Path) -> Dict[str, dict]:
    """Per pipeline, one run per seed: the fold of each example and both readings of
    its prediction by the model that did not see it."""
    texts = [m.get("text") for _, m in examples]
    splits = [(FIRST_SEED + n, folds_of(examples, k, FIRST_SEED + n)) for n in range(seeds)]
    results = {}
    for pipeline in PIPELINES:
        runs = []
        started = time.monotonic()
        for seed, folds in splits:
            parses: List[dict] = [{}] * len(examples)  # each filled by the fold that holds it out
            for fold in range(k):
                print(
                    f"==> cross-validation: {pipeline} pipeline, seed {seed}, fold {fold + 1}/{k}", flush=True
                )
                model = train(
                    pipeline,
                    [m for (_, m), f in zip(examples, folds, strict=True) if f != fold],
                    workdir,
                    f"{pipeline}-seed{seed}-fold{fold}",
                )
                held = [i for i, f in enumerate(folds) if f == fold]
                for i, parsed in zip(held, parse_all(model, [texts[i] for i in held]), strict=True):
                    parses[i] = parsed
                model.unlink()
            runs.append({"seed": seed, "folds": folds, **readings(parses)})
        results[pipeline] = {"runs": runs, "minutes": round((time.monotonic() - started) / 60, 1)}
    return results


def cv_figures(examples, runs: List[dict], k: int) -> Dict[str, dict]:
    """Per language, both readings pooled over every run (each example counted once per
    seed), and the spread of the figures of each (seed, fold) run."""
    figures = {}
    for lang in LANGUAGES:
        keep = [i for i, (language, _) in enumerate(examples) if language == lang]
        gold = [examples[i][1].get("intent") for i in keep]
        entry: Dict[str, Any] = {"examples": len(keep)}
        for reading in READINGS:
            pooled = labelled_figures(gold * len(runs), [run[reading][i] for run in runs for i in keep])
            per_run = [
                labelled_figures(
                    [examples[i][1].get("intent") for i in part], [run[reading][i] for i in part]
                )
                for run in runs
                for fold in range(k)
                for part in [[i for i in keep if run["folds"][i] == fold]]
            ]
            pooled["spread"] = {
                "accuracy": spread([f["accuracy"] for f in per_run]),
                "macro_f1": spread([f["macro_f1"] for f in per_run]),
                "complaint_f1": spread([f["complaint"]["f1"] for f in per_run]),
            }
            if reading == "acted":
                entry.update(pooled)  # the top level keeps the shape earlier reports had
            else:
                entry[reading] = pooled
        figures[lang] = entry
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
    for ax, pipeline in zip(axes, PIPELINES, strict=True):
        runs = results[pipeline]["runs"]
        matrix = confusion_matrix(gold * len(runs), [p for run in runs for p in run["acted"]], labels=labels)
        rows = matrix.sum(axis=1, keepdims=True)
        share = np.divide(matrix, rows, out=np.zeros(matrix.shape), where=rows > 0)
        ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
        for (i, j), count in np.ndenumerate(matrix):
            if count:
                ax.text(
                    j,
                    i,
                    str(count),
                    ha="center",
                    va="center",
                    fontsize=6,
                    color="white" if share[i, j] > 0.5 else "black",
                )
        ax.set_xticks(range(len(labels)), labels, rotation=90, fontsize=7)
        ax.set_yticks(range(len(labels)), labels, fontsize=7)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        ax.set_title(f"{pipeline} pipeline (cross-validation, en + vi, all seeds)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def data_digest(examples) -> str:
    """A digest of the training examples (language, intent, text), so a cached default
    model is reused only for exactly the data it was trained on."""
    import hashlib

    lines = sorted(f"{lang}\t{m.get('intent')}\t{m.get('text')}" for lang, m in examples)
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


def ensure_default_model(examples, workdir: Path) -> Tuple[Path, bool]:
    """Rasa's default pipeline on all of data/nlu, retrained when the data changed."""
    digest = data_digest(examples)
    stamp = DEFAULT_MODEL.with_name(DEFAULT_MODEL.name + ".data-sha256")
    if DEFAULT_MODEL.exists() and stamp.exists() and stamp.read_text().strip() == digest:
        return DEFAULT_MODEL, False
    print("==> training the default pipeline on all of data/nlu", flush=True)
    model = train("default", [m for _, m in examples], workdir, "default-pipeline")
    DEFAULT_MODEL.parent.mkdir(exist_ok=True)
    stamp.unlink(missing_ok=True)
    shutil.move(str(model), DEFAULT_MODEL)
    stamp.write_text(digest + "\n")
    return DEFAULT_MODEL, True


def first_per(items: Sequence[Any], key: Callable[[Any], Any], n: int) -> List[Any]:
    """The first `n` items of each `key`, in order (every item when `n` is 0)."""
    if not n:
        return list(items)
    taken: Counter = Counter()
    kept = []
    for item in items:
        if taken[key(item)] < n:
            taken[key(item)] += 1
            kept.append(item)
    return kept


def load_external() -> List[dict]:
    if not EXTERNAL.exists():
        print(f"external set not found at {EXTERNAL}: skipped", file=sys.stderr)
        return []
    lines = EXTERNAL.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def full_models(models: Dict[str, Path], sample: int = 0) -> Dict[str, dict]:
    """External-set and held-out figures of each model, loading each model once (with
    `sample`, on the first `sample` messages of each language and label of each set)."""
    from rasa.shared.nlu.training_data.loading import load_data

    rows = first_per(load_external(), lambda r: (r["lang"], r["intent"] or r["complaint"]), sample)
    entity_messages = first_per(load_data(str(HELDOUT)).training_examples, lambda m: m.get("intent"), sample)
    intent_messages = {
        lang: first_per(messages, lambda m: m.get("intent"), sample)
        for lang, messages in load_heldout_intents().items()
    }
    texts = (
        [r["text"] for r in rows]
        + [m.get("text") for m in entity_messages]
        + [m.get("text") for lang in LANGUAGES for m in intent_messages[lang]]
    )
    parsed = {pipeline: parse_all(model, texts) for pipeline, model in models.items()}

    external: Dict[str, Dict[str, dict]] = {reading: {} for reading in READINGS}
    external_sources = {}
    entity_parses, intent_parses = {}, {}
    for pipeline, parses in parsed.items():
        read = readings(parses[: len(rows)])
        if rows:
            for reading in READINGS:
                external[reading][pipeline] = external_figures(rows, read[reading])
            external_sources[pipeline] = {reading: by_source(rows, read[reading]) for reading in READINGS}
        entity_parses[pipeline] = parses[len(rows) : len(rows) + len(entity_messages)]
        intent_parses[pipeline] = parses[len(rows) + len(entity_messages) :]
    return {
        "external": external["acted"] if rows else {},
        "external_top_real": external["top_real"] if rows else {},
        "external_by_source": external_sources,
        "entities": heldout_entities(entity_messages, entity_parses),
        "heldout_entity_intents": heldout_entity_intents(entity_messages, entity_parses),
        "heldout_intents": heldout_intents(intent_messages, intent_parses),
    }


def entity_message_languages(messages) -> List[Optional[str]]:
    from contract.language import detect_language

    return [detect_language(m.get("text")) for m in messages]


def heldout_entities(messages, parsed: Dict[str, List[dict]]) -> Dict[str, dict]:
    gold = [entity_set(m.get("entities") or []) for m in messages]
    language = entity_message_languages(messages)
    figures: Dict[str, Any] = {}
    for pipeline, parses in parsed.items():
        predicted = [entity_set(p.get("entities") or []) for p in parses]
        figures[pipeline] = {"all": entity_figures(gold, predicted)}
        for lang in LANGUAGES:
            keep = [i for i, found in enumerate(language) if found == lang]
            figures[pipeline][lang] = entity_figures([gold[i] for i in keep], [predicted[i] for i in keep])
    figures["messages"] = {"all": len(messages), **Counter(found or "either" for found in language)}
    return figures


def heldout_entity_intents(messages, parsed: Dict[str, List[dict]]) -> Dict[str, dict]:
    """Intent figures on the held-out entity set, per detected language and for all."""
    gold = [m.get("intent") for m in messages]
    language = entity_message_languages(messages)
    figures: Dict[str, dict] = {}
    for pipeline, parses in parsed.items():
        read = readings(parses)
        figures[pipeline] = {}
        for scope in ("all",) + LANGUAGES:
            keep = [i for i, found in enumerate(language) if scope == "all" or found == scope]
            figures[pipeline][scope] = {
                reading: labelled_figures([gold[i] for i in keep], [read[reading][i] for i in keep])
                for reading in READINGS
            }
    return figures


def heldout_intents(messages: Dict[str, list], parsed: Dict[str, List[dict]]) -> Dict[str, dict]:
    """Per pipeline and language, both readings on the frozen held-out intent set."""
    figures: Dict[str, dict] = {"messages": {lang: len(messages[lang]) for lang in LANGUAGES}}
    for pipeline, parses in parsed.items():
        read, start, figures[pipeline] = readings(parses), 0, {}
        for lang in LANGUAGES:
            gold = [m.get("intent") for m in messages[lang]]
            end = start + len(gold)
            figures[pipeline][lang] = {
                reading: labelled_figures(gold, read[reading][start:end]) for reading in READINGS
            }
            start = end
    return figures


def complaint_cell(f: dict) -> str:
    return f"{f['f1']} ({f['precision']} / {f['recall']})"


def spread_cell(s: dict) -> str:
    return f"{s['mean']} ± {s['std']} ({s['min']}–{s['max']})"


def confusions_cell(entry: dict) -> str:
    return ", ".join(f"{name} {count}" for name, count in entry["confused_with"]) or "—"


def per_intent_table(by_pipeline: Dict[str, dict]) -> str:
    """Rows: intent; per pipeline: F1 and the top wrong predictions (as the bot acts)."""
    labels = sorted(set().union(*(f["per_intent"] for f in by_pipeline.values())))
    header = ["intent"] + [h for p in by_pipeline for h in (f"{p} F1", f"{p}: mostly mistaken for")]
    rows = [
        [label]
        + [
            cell
            for f in by_pipeline.values()
            for cell in (
                (f["per_intent"].get(label) or {}).get("f1"),
                confusions_cell(f["per_intent"][label]) if label in f["per_intent"] else None,
            )
        ]
        for label in labels
    ]
    return table(header, rows)


def labelled_rows(scopes: Sequence[str], get) -> List[list]:
    """Table rows for labelled-intent figures: scope, pipeline, reading, figures."""
    rows = []
    for scope in scopes:
        for pipeline in PIPELINES:
            for reading in READINGS:
                f = get(pipeline, scope, reading)
                rows.append(
                    [
                        scope,
                        pipeline,
                        READING_NAMES[reading],
                        f["rows"],
                        f["accuracy"],
                        f"**{f['macro_f1']}**" if reading == "acted" else f["macro_f1"],
                        complaint_cell(f["complaint"]),
                    ]
                )
    return rows


LABELLED_HEADER = [
    "language",
    "pipeline",
    "reading",
    "messages",
    "intent accuracy",
    "intent macro-F1",
    "complaint-vs-not F1 (P / R)",
]


def markdown(report: dict) -> str:
    cv = report["cross_validation"]
    head = [
        "## NLU quality",
        "",
        f"`make eval` on {report['date']}; {report['machine']}.",
        "",
        "Two pipelines trained on the same `data/nlu` in the same run: **ours** (`config.yml`) "
        "and Rasa's **default** (the `config.yml` that `rasa init` writes; its empty pipeline "
        "becomes Rasa's default components: whitespace tokens, regex, lexical and count-vector "
        "features, DIET with 100 epochs, fallback at 0.3).",
        "",
        "Each intent figure has two readings. **As the bot acts**: the intent Rasa returns, so a "
        "message that falls back (`nlu_fallback`) counts as wrong. **Top real intent**: the intent "
        "that ranked first before the FallbackClassifier replaced it, which shows what a lower "
        "threshold or a clarifying question could recover.",
        "",
    ]
    if not cv:
        lines = head + ["Fast mode (`--folds 0`): no cross-validation in this run.", ""]
    else:
        lines = head + cv_markdown(report)
    return "\n".join(lines + heldout_markdown(report))


def cv_markdown(report: dict) -> List[str]:
    cv, seeds = report["cross_validation"], report.get("seeds", 1)
    lines = [
        f"### Cross-validation on data/nlu ({report['folds']} folds × {seeds} "
        f"seed{'s' if seeds > 1 else ''}, stratified by language and intent, same folds for both)",
        "",
        "Figures over all predictions (each example predicted once per seed); the spread is "
        f"over the {report['folds'] * seeds} (seed, fold) runs: mean ± standard deviation (min–max).",
        "",
        table(
            [
                "language",
                "examples",
                "pipeline",
                "reading",
                "intent accuracy",
                "intent macro-F1",
                "macro-F1 spread",
                "complaint-vs-not F1 (P / R)",
            ],
            [
                [
                    lang,
                    cv["ours"][lang]["examples"],
                    pipeline,
                    READING_NAMES[reading],
                    f["accuracy"],
                    f"**{f['macro_f1']}**" if reading == "acted" else f["macro_f1"],
                    spread_cell(f["spread"]["macro_f1"]),
                    complaint_cell(f["complaint"]),
                ]
                for lang in LANGUAGES
                for pipeline in PIPELINES
                for reading in READINGS
                for f in [cv[pipeline][lang] if reading == "acted" else cv[pipeline][lang][reading]]
            ],
        ),
        "",
        f"Training time for all folds: ours {cv['ours']['minutes']} min, default {cv['default']['minutes']} min.",
        "",
        "![Confusion matrices from cross-validation](img/nlu-confusion-cv.png)",
        "",
    ]
    for lang in LANGUAGES:
        lines += [
            f"Per intent, cross-validation, {lang} (as the bot acts; up to 3 most frequent wrong predictions):",
            "",
            per_intent_table({p: cv[p][lang] for p in PIPELINES}),
            "",
        ]
    return lines


def heldout_markdown(report: dict) -> List[str]:
    ext, ent = report["external"], report["entities"]
    held, held_ent = report["heldout_intents"], report["heldout_entity_intents"]
    lines = [
        f"### Held-out intent set (`benchmarks/heldout_intents_{{en,vi}}.yml`, "
        f"{held['messages']['en']} en + {held['messages']['vi']} vi messages, frozen, never trained on)",
        "",
        "Written for this set only, in styles `data/nlu` lacks: questions, long rants, chat "
        "abbreviations, typos, symptoms instead of labels; about a third of the Vietnamese without "
        "diacritics. Models trained on all of data/nlu. Language by file.",
        "",
        table(LABELLED_HEADER, labelled_rows(LANGUAGES, lambda p, s, r: held[p][s][r])),
        "",
    ]
    for lang in LANGUAGES:
        lines += [
            f"Per intent, held-out intent set, {lang} (as the bot acts):",
            "",
            per_intent_table({p: held[p][lang]["acted"] for p in PIPELINES}),
            "",
        ]
    lines += [
        "### Intents on the held-out entity set (`benchmarks/heldout_entities.yml`)",
        "",
        'Language by `contract.language.detect_language`; messages with no language evidence count only in "all".',
        "",
        table(LABELLED_HEADER, labelled_rows(("all",) + LANGUAGES, lambda p, s, r: held_ent[p][s][r])),
        "",
    ]
    if ext:
        lines += [
            "### External set (`../shared/eval/external.jsonl`, evaluation only)",
            "",
            "Models trained on all of data/nlu. English rows with one of our intents give the intent "
            "figures; every row gives complaint-vs-not (Vietnamese rows carry only that flag).",
            "",
            table(
                [
                    "language",
                    "pipeline",
                    "reading",
                    "intent rows",
                    "intent accuracy",
                    "intent macro-F1",
                    "messages",
                    "complaint-vs-not F1 (P / R)",
                ],
                [
                    [
                        lang,
                        pipeline,
                        READING_NAMES[reading],
                        f.get("intent_rows"),
                        f.get("intent_accuracy"),
                        f.get("intent_macro_f1"),
                        f["messages"],
                        f"{f['complaint_f1']} ({f['complaint_precision']} / {f['complaint_recall']})",
                    ]
                    for lang in LANGUAGES
                    for pipeline in PIPELINES
                    for reading in READINGS
                    for f in [
                        (ext if reading == "acted" else report["external_top_real"])[pipeline].get(lang)
                    ]
                    if f
                ],
            ),
            "",
            "Per source (as the bot acts):",
            "",
            table(
                [
                    "source",
                    "language",
                    "pipeline",
                    "intent rows",
                    "intent accuracy",
                    "intent macro-F1",
                    "messages",
                    "complaint-vs-not F1 (P / R)",
                ],
                [
                    [
                        source,
                        lang,
                        pipeline,
                        f.get("intent_rows"),
                        f.get("intent_accuracy"),
                        f.get("intent_macro_f1"),
                        f["messages"],
                        f"{f['complaint_f1']} ({f['complaint_precision']} / {f['complaint_recall']})",
                    ]
                    for source in sorted(report["external_by_source"]["ours"]["acted"])
                    for pipeline in PIPELINES
                    for lang, f in sorted(report["external_by_source"][pipeline]["acted"][source].items())
                ],
            ),
            "",
        ]
    counts = ent["messages"]
    lines += [
        f"### Entities on our held-out set (`benchmarks/heldout_entities.yml`, {counts['all']} messages)",
        "",
        "A prediction counts when the entity type and its normalised value (digits of an order or "
        "phone number, the email in lower case) match the annotation. Ours extracts these with spaCy "
        "Matcher rules (`nlu/details.py`); the default pipeline learns them with DIET from the "
        f"annotations in data/nlu. Language by `contract.language.detect_language`: {counts.get('en', 0)} en, "
        f"{counts.get('vi', 0)} vi, {counts.get('either', 0)} with no language evidence (bare numbers "
        'or addresses, counted only in "all").',
        "",
        table(
            [
                "entity",
                "messages",
                "annotated",
                "ours precision",
                "ours recall",
                "default precision",
                "default recall",
            ],
            [
                [
                    name,
                    scope,
                    ent["ours"][scope][name]["gold"],
                    ent["ours"][scope][name]["precision"],
                    ent["ours"][scope][name]["recall"],
                    ent["default"][scope][name]["precision"],
                    ent["default"][scope][name]["recall"],
                ]
                for name in ("order_id", "email", "phone")
                for scope in ("all",) + LANGUAGES
            ],
        ),
        "",
    ]
    return lines


def _num(value) -> str:
    return "—" if value is None else f"{value:.3f}"


def print_labelled(title: str, scopes: Sequence[str], get) -> None:
    print(f"\n{title}")
    print(
        f"{'lang':<5}{'pipeline':<9}{'reading':<17}{'n':>6}{'accuracy':>9}{'macro-F1':>9}{'complaint F1':>13}"
    )
    for scope in scopes:
        for p in PIPELINES:
            for reading in READINGS:
                f = get(p, scope, reading)
                print(
                    f"{scope:<5}{p:<9}{READING_NAMES[reading]:<17}{f['rows']:>6}{f['accuracy']:>9.3f}"
                    f"{f['macro_f1']:>9.3f}{f['complaint']['f1']:>13.3f}"
                )


def print_per_intent(title: str, by_pipeline: Dict[str, dict]) -> None:
    print(f"\n{title}")
    for label in sorted(set().union(*(f["per_intent"] for f in by_pipeline.values()))):
        cells = []
        for p, f in by_pipeline.items():
            entry = f["per_intent"].get(label)
            cells.append(
                f"{p} {'—' if entry is None else format(entry['f1'], '.3f')}"
                f" [{'' if entry is None else confusions_cell(entry)}]"
            )
        print(f"  {label:<20}" + "   ".join(cells))


def print_summary(report: dict) -> None:
    if report["cross_validation"]:
        print_cv(report)
    print_heldout(report)


def print_cv(report: dict) -> None:
    cv = report["cross_validation"]
    print(f"\nCross-validation on data/nlu ({report['folds']} folds × {report.get('seeds', 1)} seeds)")
    print(
        f"{'lang':<5}{'pipeline':<9}{'reading':<17}{'accuracy':>9}{'macro-F1':>9}"
        f"{'  macro-F1 spread':<30}{'complaint F1':>13}"
    )
    for lang in LANGUAGES:
        for p in PIPELINES:
            for reading in READINGS:
                f = cv[p][lang] if reading == "acted" else cv[p][lang][reading]
                print(
                    f"{lang:<5}{p:<9}{READING_NAMES[reading]:<17}{f['accuracy']:>9.3f}{f['macro_f1']:>9.3f}"
                    f"  {spread_cell(f['spread']['macro_f1']):<28}{f['complaint']['f1']:>13.3f}"
                )
    for lang in LANGUAGES:
        print_per_intent(
            f"Per intent F1 [top wrong predictions], cross-validation, {lang}",
            {p: cv[p][lang] for p in PIPELINES},
        )


def print_heldout(report: dict) -> None:
    ext, ent = report["external"], report["entities"]
    held, held_ent = report["heldout_intents"], report["heldout_entity_intents"]
    print_labelled("Held-out intent set (frozen, never trained on)", LANGUAGES, lambda p, s, r: held[p][s][r])
    for lang in LANGUAGES:
        print_per_intent(
            f"Per intent F1 [top wrong predictions], held-out intent set, {lang}",
            {p: held[p][lang]["acted"] for p in PIPELINES},
        )
    print_labelled(
        "Intents on the held-out entity set", ("all",) + LANGUAGES, lambda p, s, r: held_ent[p][s][r]
    )
    if ext:
        print("\nExternal set (evaluation only)")
        print(f"{'lang':<5}{'pipeline':<9}{'reading':<17}{'accuracy':>9}{'macro-F1':>9}{'complaint F1':>13}")
        for lang in LANGUAGES:
            for p in PIPELINES:
                for reading in READINGS:
                    f = (ext if reading == "acted" else report["external_top_real"])[p].get(lang)
                    if f:
                        print(
                            f"{lang:<5}{p:<9}{READING_NAMES[reading]:<17}{_num(f.get('intent_accuracy')):>9}"
                            f"{_num(f.get('intent_macro_f1')):>9}{f['complaint_f1']:>13.3f}"
                        )
        print("\nExternal set per source (as the bot acts)")
        print(f"{'source':<26}{'lang':<5}{'pipeline':<9}{'accuracy':>9}{'macro-F1':>9}{'complaint F1':>13}")
        for source in sorted(report["external_by_source"]["ours"]["acted"]):
            for p in PIPELINES:
                for lang, f in sorted(report["external_by_source"][p]["acted"][source].items()):
                    print(
                        f"{source:<26}{lang:<5}{p:<9}{_num(f.get('intent_accuracy')):>9}"
                        f"{_num(f.get('intent_macro_f1')):>9}{f['complaint_f1']:>13.3f}"
                    )
    print(f"\nEntities on the held-out set ({ent['messages']['all']} messages)")
    print(f"{'entity':<10}{'pipeline':<9}{'precision':>10}{'recall':>8}")
    for name in ("order_id", "email", "phone"):
        for p in PIPELINES:
            f = ent[p]["all"][name]
            print(f"{name:<10}{p:<9}{f['precision']:>10.3f}{f['recall']:>8.3f}")


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--folds", type=int, default=5, help="cross-validation folds; 0 = fast mode, no cross-validation"
    )
    parser.add_argument(
        "--seeds",
        type=int,
        default=1,
        help="how many fold shuffles (seeds 42, 43, ...); each repeats every fold",
    )
    parser.add_argument(
        "--config",
        type=Path,
        help="a candidate config for 'ours', trained here (NLU only); the report "
        "then goes to results/eval/<name>.json only",
    )
    parser.add_argument("--name", default="candidate", help="report name with --config")
    parser.add_argument(
        "--sample",
        type=int,
        default=0,
        metavar="N",
        help="a quick check of the whole path (`make smoke`): train and cross-validate on N examples per "
        "language and intent (the default pipeline too, not kept), measure on the first N messages per "
        "language and label of each set; figures worth nothing, never written to docs/",
    )
    parser.add_argument(
        "--out", type=Path, default=OUT, help="folder for the JSON report (default results/eval)"
    )
    parser.add_argument("--no-docs", action="store_true", help="leave docs/ alone (the plot goes to --out)")
    args = parser.parse_args()
    if args.folds == 1 or args.folds < 0 or args.seeds < 1 or args.sample < 0:
        parser.error(
            "--folds must be 0 (no cross-validation) or at least 2, --seeds at least 1, --sample at least 0"
        )
    if args.sample and args.folds > args.sample:
        parser.error("--folds cannot exceed --sample (each fold needs an example of each intent)")
    args.docs = not (args.no_docs or args.sample or args.config)
    return args


def measure(args: argparse.Namespace, examples) -> dict:
    """Cross-validation (unless --folds 0), then both models on the external and held-out sets."""
    with tempfile.TemporaryDirectory(prefix="nlu-eval-") as tmp:
        workdir = Path(tmp)
        results = cross_validate(examples, args.folds, args.seeds, workdir) if args.folds else {}
        if args.sample:  # trained on the sample only: never kept as models/default-pipeline.tar.gz
            default_model, retrained = (
                train("default", [m for _, m in examples], workdir, "default-sample"),
                True,
            )
        else:
            default_model, retrained = ensure_default_model(examples, workdir)
        our_model, train_minutes = OUR_MODEL, None
        if args.config:
            print(f"==> training ours from {args.config} on all of data/nlu", flush=True)
            clock = time.monotonic()
            our_model = train("ours", [m for _, m in examples], workdir, "ours-candidate")
            train_minutes = round((time.monotonic() - clock) / 60, 1)
        print("==> external set and held-out sets", flush=True)
        measured = full_models({"ours": our_model, "default": default_model}, args.sample)
    if results:
        confusion_png(examples, results, (IMAGES if args.docs else args.out) / "nlu-confusion-cv.png")
    return {
        "date": datetime.date.today().isoformat(),
        "machine": machine(),
        "config": str(OUR_CONFIG.relative_to(ROOT) if OUR_CONFIG.is_relative_to(ROOT) else OUR_CONFIG),
        "folds": args.folds,
        "seeds": args.seeds,
        "sample": args.sample,
        "cross_validation": {
            p: {**cv_figures(examples, results[p]["runs"], args.folds), "minutes": results[p]["minutes"]}
            for p in PIPELINES
        }
        if results
        else {},
        **measured,
        "default_model_retrained": retrained,
        "ours_nlu_train_minutes": train_minutes,
    }


def main() -> int:
    global OUR_CONFIG
    args = arguments()
    if args.config:
        OUR_CONFIG = args.config.resolve()
    elif not OUR_MODEL.exists():
        print(f"no model at {OUR_MODEL}: run `make train` (make eval does)", file=sys.stderr)
        return 2
    quiet_rasa()
    started = time.monotonic()
    examples = first_per(load_examples(), lambda e: (e[0], e[1].get("intent")), args.sample)
    trainings = 2 * args.folds * args.seeds
    print(
        f"==> {len(examples)} examples in data/nlu{' (sampled)' if args.sample else ''} "
        f"({', '.join(f'{n} {lang}' for lang, n in Counter(lang for lang, _ in examples).items())}); "
        f"{args.folds} folds × {args.seeds} seeds = {trainings} trainings",
        flush=True,
    )
    args.out.mkdir(parents=True, exist_ok=True)
    report = measure(args, examples)
    report["minutes"] = round((time.monotonic() - started) / 60, 1)
    name = args.name if args.config else "nlu"
    written = args.out / f"{name}.json"
    written.write_text(json.dumps(report, indent=2), encoding="utf-8")
    print_summary(report)
    if not args.docs:
        print(f"\n==> {report['minutes']} min; written to {written}")
        return 0
    doc = write_section("nlu", markdown(report))
    print(f"\n==> {report['minutes']} min; written to {doc.relative_to(ROOT)} and {written}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
