"""Figures shared by the NLU report (`make eval`), the external-set report in CI and
the load benchmark (`make bench`). Classification scores come from scikit-learn."""

from collections import Counter, defaultdict
from typing import Any, Dict, Iterable, List, Optional, Sequence, Set, Tuple

import numpy as np
from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support

ENTITIES = ("order_id", "email", "phone")
FALLBACK = "nlu_fallback"
# "As the bot acts", a message the classifier gave up on or put out of scope that the bot
# still reads as a complaint (actions/triage.py which_to_ask) gets "which of these?": a
# complaint whose type the customer picks. Never an intent, so never a right intent.
ASKED_WHICH = "asked_which_complaint"


def is_complaint(intent: Optional[str]) -> bool:
    """A complaint should get a complain_* intent, a request for a person, or the
    "which of these?" question."""
    return intent is not None and (intent.startswith("complain_") or intent in ("request_human", ASKED_WHICH))


def acted_intent(parsed: Dict[str, Any], knobs: Any) -> Optional[str]:
    """What the bot makes of a parse: its intent, or ASKED_WHICH where the bot asks which
    complaint it is (`knobs`: the playbook's `understanding`, as the bot has them)."""
    from actions.triage import TRIAGED, which_to_ask

    name = (parsed.get("intent") or {}).get("name")
    return ASKED_WHICH if name in TRIAGED and which_to_ask(parsed, knobs) else name


def intent_figures(gold: Sequence[str], predicted: Sequence[str]) -> Dict[str, float]:
    """Accuracy and macro-F1 over the gold labels (a label never in gold does not count)."""
    labels = sorted(set(gold))
    return {
        "rows": len(gold),
        "accuracy": round(float(accuracy_score(gold, predicted)), 3),
        "macro_f1": round(
            float(f1_score(gold, predicted, labels=labels, average="macro", zero_division=0)), 3
        ),
    }


def top_real_intent(parsed: Dict[str, Any]) -> Optional[str]:
    """The intent that ranked first before the FallbackClassifier. When it fires, Rasa
    puts nlu_fallback on top of `intent` and of `intent_ranking`; the rest of the ranking
    keeps the classifier's own order."""
    name = (parsed.get("intent") or {}).get("name")
    if name != FALLBACK:
        return name
    for entry in parsed.get("intent_ranking") or []:
        if entry.get("name") != FALLBACK:
            return entry["name"]
    return name


def per_intent_figures(
    gold: Sequence[str], predicted: Sequence[Optional[str]], top: int = 3
) -> Dict[str, dict]:
    """For each gold label: support, precision, recall, F1, and the `top` most frequent
    wrong predictions for it as [label, count] (most frequent first, ties by name)."""
    labels = sorted(set(gold))
    p, r, f, support = precision_recall_fscore_support(
        gold, [str(x) for x in predicted], labels=labels, average=None, zero_division=0
    )
    wrong: Dict[str, Counter[str]] = defaultdict(Counter)
    for g, x in zip(gold, predicted, strict=True):
        if g != x:
            wrong[g][str(x)] += 1
    return {
        label: {
            "support": int(support[i]),
            "precision": round(float(p[i]), 3),
            "recall": round(float(r[i]), 3),
            "f1": round(float(f[i]), 3),
            "confused_with": [
                [name, count]
                for name, count in sorted(wrong[label].items(), key=lambda kv: (-kv[1], kv[0]))[:top]
            ],
        }
        for i, label in enumerate(labels)
    }


def labelled_figures(gold: Sequence[str], predicted: Sequence[Optional[str]], top: int = 3) -> Dict[str, Any]:
    """Accuracy, macro-F1, complaint-vs-not and per-intent figures for labelled messages."""
    named = [str(x) for x in predicted]
    return {
        **intent_figures(gold, named),
        "complaint": complaint_figures([is_complaint(g) for g in gold], named),
        "per_intent": per_intent_figures(gold, named, top),
    }


def spread(values: Sequence[float]) -> Dict[str, Optional[float]]:
    """Mean, population standard deviation, min and max of per-fold figures."""
    if not values:
        return {"n": 0, "mean": None, "std": None, "min": None, "max": None}
    array = np.asarray(values, dtype=float)
    return {
        "n": len(values),
        "mean": round(float(array.mean()), 3),
        "std": round(float(array.std()), 3),
        "min": round(float(array.min()), 3),
        "max": round(float(array.max()), 3),
    }


def by_source(rows: Sequence[dict], predictions: Sequence[Optional[str]]) -> Dict[str, Dict[str, dict]]:
    """external_figures for each `source` of the external set on its own."""
    groups = defaultdict(list)
    for row, prediction in zip(rows, predictions, strict=True):
        groups[row["source"]].append((row, prediction))
    return {
        source: external_figures([r for r, _ in pairs], [p for _, p in pairs])
        for source, pairs in sorted(groups.items())
    }


def complaint_figures(
    gold: Sequence[bool],
    predicted_intents: Sequence[Optional[str]],
    gold_intents: Optional[Sequence[Optional[str]]] = None,
) -> Dict[str, float]:
    """Complaint-vs-not: precision, recall and F1 of the complaint class. Where a row also
    has a gold intent and that intent was predicted, the prediction is right whatever
    is_complaint says of it: the external set's requests for a person are not complaints,
    and request_human is what they should get."""
    gold_intents = gold_intents or [None] * len(gold)
    predicted = [
        g if intent is not None and p == intent else is_complaint(p)
        for g, p, intent in zip(gold, predicted_intents, gold_intents, strict=True)
    ]
    p, r, f, _ = precision_recall_fscore_support(
        gold, predicted, average="binary", pos_label=True, zero_division=0
    )
    return {
        "rows": len(gold),
        "precision": round(float(p), 3),
        "recall": round(float(r), 3),
        "f1": round(float(f), 3),
    }


def external_figures(rows: Sequence[dict], predictions: Sequence[Optional[str]]) -> Dict[str, dict]:
    """Per language of the external set: complaint-vs-not for every row, intent figures
    for the rows that carry one of our intents."""
    figures = {}
    for lang in sorted({r["lang"] for r in rows}):
        pairs = [(r, p) for r, p in zip(rows, predictions, strict=True) if r["lang"] == lang]
        labelled = [(r["intent"], p) for r, p in pairs if r["intent"]]
        complaint = complaint_figures(
            [r["complaint"] for r, _ in pairs], [p for _, p in pairs], [r["intent"] for r, _ in pairs]
        )
        entry: Dict[str, Any] = {
            "messages": len(pairs),
            "complaint_f1": complaint["f1"],
            "complaint_precision": complaint["precision"],
            "complaint_recall": complaint["recall"],
        }
        if labelled:
            gold, pred = zip(*labelled, strict=True)
            intents = intent_figures(gold, pred)
            entry["intent_rows"] = intents["rows"]
            entry["intent_accuracy"] = intents["accuracy"]
            entry["intent_macro_f1"] = intents["macro_f1"]
            entry["per_intent_accuracy"] = {
                label: round(sum(1 for g, p in labelled if g == label and p == label) / count, 3)
                for label, count in sorted(Counter(gold).items())
            }
        figures[lang] = entry
    return figures


def normalise_entity(entity: str, value: str) -> str:
    """Compare what was meant, not how it was written: digits of an order or phone
    number (with a leading + kept), an email in lower case without trailing punctuation."""
    value = str(value).strip()
    if entity == "email":
        return value.lower().strip(".,;:!?")
    plus = "+" if value.startswith("+") else ""
    return plus + "".join(ch for ch in value if ch.isdigit())


def entity_set(entities: Iterable[dict]) -> Set[Tuple[str, str]]:
    return {
        (e["entity"], normalise_entity(e["entity"], e.get("value", "")))
        for e in entities
        if e.get("entity") in ENTITIES
    }


def entity_figures(
    gold: List[Set[Tuple[str, str]]], predicted: List[Set[Tuple[str, str]]]
) -> Dict[str, dict]:
    """Per entity type: precision and recall of (type, normalised value) per message."""
    figures = {}
    for name in ENTITIES:
        tp = fp = fn = 0
        for gold_pairs, predicted_pairs in zip(gold, predicted, strict=True):
            g = {v for t, v in gold_pairs if t == name}
            p = {v for t, v in predicted_pairs if t == name}
            tp, fp, fn = tp + len(g & p), fp + len(p - g), fn + len(g - p)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        figures[name] = {
            "gold": tp + fn,
            "predicted": tp + fp,
            "precision": round(precision, 3),
            "recall": round(recall, 3),
        }
    return figures


def percentiles(values: Sequence[float], points=(50, 95, 99)) -> Dict[str, Optional[float]]:
    if not values:
        return {f"p{p}": None for p in points}
    found = np.percentile(np.asarray(values, dtype=float), points)
    return {f"p{p}": round(float(v), 4) for p, v in zip(points, found, strict=True)}
