"""The trained NLU measured as the bot acts, shared by `make eval-external`
(scripts/eval_external.py) and the NLU report (`make eval`, benchmarks/nlu_quality.py):
parse many messages in-process, read each parse as the bot does (`acted_intent`), and
score intents and complaint-vs-not. Classification scores come from scikit-learn."""

import asyncio
from collections import Counter
import gc
import logging
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support

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


# --- parsing many messages with a trained model, in-process and quietly ---


def quiet_rasa() -> None:
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    configure_logging_and_warnings(logging.WARNING)
    configure_structlog(logging.WARNING)  # no per-message debug lines


def parse_all(model: Path, texts: Sequence[str]) -> List[Dict[str, Any]]:
    """Rasa's parse result (intent, entities, ...) for each text."""
    from rasa.core.agent import Agent

    quiet_rasa()
    agent = Agent.load(str(model))

    async def run() -> List[Dict[str, Any]]:
        return [await agent.parse_message(text) for text in texts]  # noqa: F821 (deleted in finally)

    try:
        return asyncio.run(run())
    finally:
        del agent
        gc.collect()
