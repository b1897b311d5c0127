"""Answers from the help pages, measured (part of `make eval`): per language, on the demo
shop's pages (benchmarks/knowledge_{en,vi}.yml; and benchmarks/knowledge_fresh_{en,vi}.yml,
written later from the pages alone by someone who had seen neither the index, its tuning
sets, the other sets nor the pages' asked lines) and on another shop's pages the index
was never tuned on (benchmarks/knowledge_other_{en,vi}.yml, pages in
benchmarks/help_other_shop/, which have no asked lines):

- top-1 section accuracy: the best section is one that answers the question (whether
  or not the bot is sure of it);
- answered right: the bot was sure and the section answers it;
- "not sure" to a question the pages answer: how often the bot said it isn't sure
  (and offered a person) although a section answers it;
- answered without an answer: questions the pages do not answer that got a section
  anyway.

Each set is the questions' own writing, never used to choose the index's weights or
thresholds (those came from benchmarks/knowledge_tuning_{en,vi}.yml). Prints the table;
without --brief, writes results/eval/knowledge.json and the "Knowledge" section of
docs/benchmarks.md. --brief: the demo sets only, printed (tests/benchmarks runs it).
"""

import argparse
import datetime
import json
from pathlib import Path
import sys
import time
from typing import Any, Dict, List, Optional, Sequence

import yaml

from benchmarks.report import machine, table, write_section
from contract.language import LANGUAGES

ROOT = Path(__file__).resolve().parent.parent
DEMO = {lang: ROOT / "benchmarks" / f"knowledge_{lang}.yml" for lang in LANGUAGES}
FRESH = {lang: ROOT / "benchmarks" / f"knowledge_fresh_{lang}.yml" for lang in LANGUAGES}
OTHER = {lang: ROOT / "benchmarks" / f"knowledge_other_{lang}.yml" for lang in LANGUAGES}
OUT = ROOT / "results" / "eval" / "knowledge.json"


def load_set(path: Path) -> Dict[str, Any]:
    """A question set: its pages folder and its questions, each with the anchors that
    answer it ([] when none does)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    questions = []
    for entry in data["questions"]:
        gold = entry.get("section")
        questions.append(
            {
                "q": str(entry["q"]),
                "gold": [] if gold is None else ([gold] if isinstance(gold, str) else list(gold)),
            }
        )
    return {"pages": ROOT / data["pages"], "questions": questions}


def measure(path: Path, language: str) -> Dict[str, object]:
    """The figures of one question set in one language."""
    from actions.knowledge import knowledge
    from nlu.details import mask_details

    qset = load_set(path)
    index = knowledge(Path(str(qset["pages"])))
    rows = []
    started = time.monotonic()
    for entry in qset["questions"]:
        found = index.find(entry["q"], language, mask_details(entry["q"]))
        anchor = found.section.anchor if found.section else None
        rows.append(
            {
                "q": entry["q"],
                "gold": entry["gold"],
                "found": anchor,
                "score": round(found.score, 3),
                "sure": found.sure,
                "right": anchor in entry["gold"],
            }
        )
    answerable = [r for r in rows if r["gold"]]
    unanswerable = [r for r in rows if not r["gold"]]

    def rate(part: Sequence[dict], whole: Sequence[dict]) -> Optional[float]:
        return round(len(part) / len(whole), 3) if whole else None

    return {
        "set": str(path.relative_to(ROOT)),
        "language": language,
        "questions": len(rows),
        "answerable": len(answerable),
        "top1": rate([r for r in answerable if r["right"]], answerable),
        "answered_right": rate([r for r in answerable if r["right"] and r["sure"]], answerable),
        "not_sure_with_answer": rate([r for r in answerable if not r["sure"]], answerable),
        "unanswerable": len(unanswerable),
        "answered_without_answer": rate([r for r in unanswerable if r["sure"]], unanswerable),
        "ms_per_question": round(1000 * (time.monotonic() - started) / max(len(rows), 1), 1),
        "misses": [r for r in rows if (r["gold"] and not r["right"]) or (not r["gold"] and r["sure"])],
    }


def markdown(report: Dict[str, Any]) -> str:
    rows = [
        [
            r["name"],
            r["language"],
            f"{r['answerable']} + {r['unanswerable']}",
            f"**{r['top1']}**",
            r["answered_right"],
            r["not_sure_with_answer"],
            r["answered_without_answer"],
        ]
        for r in report["sets"]
    ]
    lines = [
        "## Knowledge",
        "",
        f"`make eval` on {report['date']}; {report['machine']}.",
        "",
        "Questions answered from the shop's help pages (`actions/knowledge.py`, issue 26): per "
        "language, the best section for each question of a set written for the measure and never "
        "used to tune the index (its weights and thresholds were chosen on "
        "`benchmarks/knowledge_tuning_{en,vi}.yml`). **Top-1**: the best section answers the "
        'question. **Answered right**: and the bot was sure of it. **"Not sure" with an answer**: '
        "the bot said it isn't sure (and offered a person) although a section answers it. "
        "**Answered without an answer**: a question the pages don't answer got a section anyway. "
        "The demo pages carry the owner's `asked:` lines (other ways customers ask each section, "
        "`data/shop/help/README.md`), written from the pages alone by someone who had not seen "
        "any question set. **Demo, fresh**: questions written afterwards, from the pages alone, by "
        "someone who had seen neither the index, its tuning sets, the other sets nor the asked "
        "lines. The other shop's pages (`benchmarks/help_other_shop/`, no asked lines) were "
        "written after the index was built, to see it on pages it has never seen "
        "(`python -m actions.knowledge ask --dir`).",
        "",
        table(
            [
                "pages",
                "language",
                "questions (with + without an answer)",
                "top-1",
                "answered right",
                '"not sure" with an answer',
                "answered without an answer",
            ],
            rows,
        ),
        "",
        "Misses (the best section is not one that answers it, or a question without an answer got one):",
        "",
    ]
    for r in report["sets"]:
        for miss in r["misses"]:
            wanted = ", ".join(miss["gold"]) or "no answer"
            lines.append(
                f'- {r["name"]} {r["language"]}: "{miss["q"]}" → `{miss["found"]}` '
                f"({miss['score']}{', sure' if miss['sure'] else ', not sure'}); wanted {wanted}"
            )
    return "\n".join(lines)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--brief", action="store_true", help="the demo sets only; print, write nothing")
    args = parser.parse_args(argv)
    sets = [("demo shop", DEMO)] + ([] if args.brief else [("demo, fresh", FRESH), ("other shop", OTHER)])
    measured = []
    for name, files in sets:
        for lang in LANGUAGES:
            figures = measure(files[lang], lang)
            measured.append({"name": name, **figures})
            print(
                f"{name:<13}{lang:<4}top-1 {figures['top1']:<6} answered right {figures['answered_right']:<6} "
                f"not sure with an answer {figures['not_sure_with_answer']:<6} "
                f"answered without an answer {figures['answered_without_answer']}",
                flush=True,
            )
    if args.brief:
        return 0
    report = {"date": datetime.date.today().isoformat(), "machine": machine(), "sets": measured}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    doc = write_section("knowledge", markdown(report))
    print(f"==> written to {doc.relative_to(ROOT)} and {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
