"""Figures shared by the NLU report (`make eval`) and the load benchmark (`make bench`),
beside those the external-set report in CI shares with them (scripts/nlu_eval.py).
Classification scores come from scikit-learn."""

from collections import Counter, defaultdict
from typing import Any, Dict, Iterable, List, Optional, Sequence, Set, Tuple

import numpy as np
from sklearn.metrics import precision_recall_fscore_support

from scripts.nlu_eval import complaint_figures, external_figures, intent_figures, is_complaint

ENTITIES = ("order_id", "email", "phone")
FALLBACK = "nlu_fallback"


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
