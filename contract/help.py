"""The shop's help pages (data/shop/help/<language>/*.md), read one way by the assistant
(actions/knowledge.py, which adds the e5 sentence vectors) and the agent console
(bot/console/help.py, lexical only): pages split into sections by heading, the text of a
section as a customer is sent it, and a lexical score that folds Vietnamese diacritics.

A page: its first `# Title` line, then `## Heading` sections (text before the first
`##` is the page's introduction, a section named after the page). Deeper headings stay
inside their section. Only `<language>/*.md` files are pages (a README beside them is
not). An HTML comment is the owner's, never sent to a customer; one that starts with
`asked:` lists, a line each, other ways customers ask the section's question (hidden
where the page is shown, matched like the heading):

    ## How long does a refund take?
    <!-- asked:
    - when do I get my money back
    -->

The lexical score is BM25 over the folded words of a section (its page's title and its
heading count twice: they say what the section is about) and over pairs of neighbouring
words, since a Vietnamese word is often two syllables ("giao hàng", "hoàn tiền"). "Hà
Nội", "ha noi" and "Ha Noi" are the same words here.
"""

from dataclasses import dataclass, field
import math
import os
from pathlib import Path
import re
from typing import Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

import yaml

from contract.language import LANGUAGES
from contract.text import fold, has_vietnamese_marks, words

HELP_DIR = Path(__file__).resolve().parent.parent / "data" / "shop" / "help"
WORDS_FILE = "words.yml"


def help_dir() -> Path:
    """Where the shop's help pages are: HELP_PAGES_DIR, else data/shop/help (the action
    server and the hub's console read the same)."""
    return Path(os.environ.get("HELP_PAGES_DIR") or HELP_DIR)


_HEADING_RE = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_LINK_RE = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")
_EMPHASIS_RE = re.compile(r"(\*\*|__|\*|`)")
_BULLET_RE = re.compile(r"^\s*[-*+]\s+")
_COMMENT_RE = re.compile(r"<!--(.*?)-->", re.DOTALL)
ASKED = "asked:"


class HelpPageError(ValueError):
    """A page that cannot be read (names the file and the line)."""


@dataclass(frozen=True)
class Section:
    language: str
    page: str  # the file's name without .md: "delivery"
    title: str  # the page's title: "Delivery"
    heading: str  # "Where we deliver" (the title itself for a page's introduction)
    text: str  # the section as the customer is sent it (plain text, lines kept)
    line: int  # where its heading is, for the owner
    asked: Tuple[str, ...] = ()  # other ways customers ask it (the owner's `<!-- asked: -->`)

    @property
    def anchor(self) -> str:
        """A stable id for the section: "delivery#where-we-deliver"."""
        slug = re.sub(r"[^a-z0-9]+", "-", fold(self.heading)).strip("-")
        return f"{self.page}#{slug}"

    def as_dict(self) -> Dict[str, object]:
        return {
            "language": self.language,
            "page": self.page,
            "title": self.title,
            "section": self.heading,
            "anchor": self.anchor,
            "text": self.text,
        }


def plain(markdown: str) -> str:
    """A section's Markdown as plain text a chat shows as written: links as "text (url)",
    no emphasis marks, list items as "- item", blank lines squeezed."""
    lines: List[str] = []
    for raw in markdown.strip().splitlines():
        line = _BULLET_RE.sub("- ", raw.rstrip())
        line = _LINK_RE.sub(lambda m: f"{m.group(1)} ({m.group(2)})", line)
        line = _EMPHASIS_RE.sub("", line)
        if line.strip() or (lines and lines[-1]):
            lines.append(line.strip() if not line.startswith("- ") else line)
    return "\n".join(lines).strip()


def owner_notes(markdown: str) -> Tuple[str, Tuple[str, ...]]:
    """A section's Markdown without its HTML comments, and the questions its `asked:`
    comments list (one a line, list marks dropped)."""
    asked: List[str] = []
    for comment in _COMMENT_RE.findall(markdown):
        body = comment.strip()
        if body.lower().startswith(ASKED):
            lines = (_BULLET_RE.sub("", line).strip() for line in body[len(ASKED) :].splitlines())
            asked += [line for line in lines if line]
    return _COMMENT_RE.sub("", markdown), tuple(asked)


def parse_page(text: str, language: str, page: str, source: str = "") -> List[Section]:
    """The sections of one page (its Markdown `text`)."""
    title = ""
    sections: List[Section] = []
    heading, start = "", 0  # the section being read
    body: List[str] = []

    def close() -> None:
        markdown, asked = owner_notes("\n".join(body))
        content = plain(markdown)
        if content:
            sections.append(Section(language, page, title, heading or title, content, start, asked))

    for number, line in enumerate(text.splitlines(), start=1):
        match = _HEADING_RE.match(line)
        level = len(match.group(1)) if match else 0
        if level == 1 and not title:
            title, start = match.group(2), number  # type: ignore[union-attr]
            continue
        if level == 2:
            close()
            heading, start, body = match.group(2), number, []  # type: ignore[union-attr]
            continue
        body.append(line)
    close()
    if not title:
        raise HelpPageError(f"{source or page}, line 1: a help page starts with its title, '# Title'")
    return sections


def load_pages(folder: Path = HELP_DIR, languages: Sequence[str] = LANGUAGES) -> Dict[str, List[Section]]:
    """Language -> every section of `folder/<language>/*.md`, pages in name order."""
    found: Dict[str, List[Section]] = {}
    for language in languages:
        sections: List[Section] = []
        for path in sorted((Path(folder) / language).glob("*.md")):
            sections += parse_page(path.read_text(encoding="utf-8"), language, path.stem, str(path))
        found[language] = sections
    return found


# --- lexical matching ----------------------------------------------------------------------


_SUFFIX_RE = re.compile(r"(?:ies|(?:(?<=[sxz])|(?<=ch)|(?<=sh))es|ings?|ed|(?<![su])s)$")
_DOUBLED_RE = re.compile(r"([bdgmnprt])\1$")


def stem(word: str) -> str:
    """A folded English word without its usual ending ("tracking", "tracked", "tracks" ->
    "track", "dropped" -> "drop", "deliveries" -> "delivery"); no Vietnamese syllable
    ends in these, so Vietnamese is left as it is."""
    if len(word) <= 4 or not word.isalpha():
        return word
    match = _SUFFIX_RE.search(word)
    if match is None or match.start() < 3:
        return word
    base = word[: match.start()] + ("y" if match.group() == "ies" else "")
    return _DOUBLED_RE.sub(r"\1", base)


# The words that only make a sentence a question ("what's", "can I", "có ... không",
# "là gì"), folded: they match every question-shaped heading, so they are not matched on
# their own (a pair with another word still is: "bao lâu", "how long").
QUESTION_WORDS = frozenset(
    """a about am an and any anything are be been can could did do does doing for from get
    got had has have how i if im in is it its me my of on or our please s should so some
    that the their them there these this those to us was we what whats when where which
    who why will with would you your
    a ah ak anh ban bao cac chi cho co cua da dang day de do duoc dc em gi ha hay hoac
    hoi k khong ko la lam luon ma minh muon nao nay nha nhe nhi nhu nhung oi phai roi sao
    shop thi the toi va vay ve voi vs""".split()
)


def _with_pairs(tokens: List[str]) -> List[str]:
    """The words that are not only question words, and every pair of neighbours but two
    question words."""
    pairs = [
        f"{a} {b}"
        for a, b in zip(tokens, tokens[1:], strict=False)
        if not (a in QUESTION_WORDS and b in QUESTION_WORDS)
    ]
    return [t for t in tokens if fold(t) not in QUESTION_WORDS] + pairs


def terms(text: str) -> List[str]:
    """The folded, stemmed words of `text` and each pair of neighbours ("giao hang");
    where the text has Vietnamese marks, its marked words and pairs too ("=đổi trả"), so
    a question typed with marks tells "thẻ" (card) from "thế" (so), and one typed
    without them still finds both."""
    found = _with_pairs([stem(fold(w)) for w in words(text)])
    if has_vietnamese_marks(text):
        found += [
            "=" + t
            for t in _with_pairs([w for w in words(text) if has_vietnamese_marks(w)])
            if " " in t or fold(t) not in QUESTION_WORDS
        ]
    return found


def section_terms(section: Section) -> List[str]:
    """What a section is matched on: its title and heading twice, then its text and the
    other ways customers ask it."""
    named = f"{section.title}. {section.heading}"
    return terms(named) * 2 + terms(section.text) + [t for asked in section.asked for t in terms(asked)]


Groups = Dict[str, List[List[str]]]  # language -> groups of words that mean the same


def load_words(folder: Path = HELP_DIR) -> Groups:
    """`folder/words.yml` (else the demo shop's): per language, groups of words customers
    and pages use for the same thing."""
    path = Path(folder) / WORDS_FILE
    if not path.exists():
        path = HELP_DIR / WORDS_FILE
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise HelpPageError(f"{path}: expected a mapping of language to groups of words")
    groups: Groups = {}
    for language, listed in data.items():
        if language not in LANGUAGES or not isinstance(listed, list):
            raise HelpPageError(f"{path}: {language!r} is not a language with a list of groups")
        groups[language] = [[str(w) for w in group] for group in listed if isinstance(group, list)]
    return groups


def _phrase(words_of: str) -> Tuple[str, ...]:
    return tuple(stem(fold(w)) for w in words(words_of))


@dataclass
class Lexical:
    """BM25 over a fixed list of sections (one language). A word in more than half the
    sections weighs nothing (its IDF is clipped at zero), so no stop-word list is needed
    in either language; words of a group (`groups`) the question uses bring the others
    in at half weight."""

    sections: Sequence[Section]
    groups: Sequence[Sequence[str]] = ()
    k1: float = 1.2
    b: float = 0.75
    expansion_weight: float = 0.5
    _docs: List[Dict[str, int]] = field(default_factory=list, init=False)
    _lengths: List[int] = field(default_factory=list, init=False)
    _idf: Dict[str, float] = field(default_factory=dict, init=False)
    _groups: List[List[Tuple[str, ...]]] = field(default_factory=list, init=False)

    def __post_init__(self) -> None:
        counts: Dict[str, int] = {}
        for section in self.sections:
            bag: Dict[str, int] = {}
            for term in section_terms(section):
                bag[term] = bag.get(term, 0) + 1
            self._docs.append(bag)
            self._lengths.append(sum(bag.values()))
            for term in bag:
                counts[term] = counts.get(term, 0) + 1
        n = len(self.sections)
        self._idf = {t: max(0.0, math.log((n - c + 0.5) / (c + 0.5))) for t, c in counts.items()}
        self._average = (sum(self._lengths) / n) if n else 0.0
        self._groups = [[p for p in map(_phrase, group) if p] for group in self.groups]

    def weighted_terms(self, query: str) -> Dict[str, float]:
        """The query's terms and their weights: its own at 1, those its groups add at
        `expansion_weight`."""
        wanted = {term: 1.0 for term in terms(query)}
        tokens = tuple(stem(fold(w)) for w in words(query))
        for group in self._groups:
            if any(_contains(tokens, phrase) for phrase in group):
                for phrase in group:
                    for term in terms(" ".join(phrase)):
                        wanted.setdefault(term, self.expansion_weight)
        return wanted

    def scores(self, query: str) -> List[float]:
        """One BM25 score per section for `query` (each term counted once)."""
        wanted = self.weighted_terms(query)
        found = []
        for bag, length in zip(self._docs, self._lengths, strict=True):
            total = 0.0
            norm = self.k1 * (1 - self.b + self.b * length / (self._average or 1))
            for term, weight in wanted.items():
                tf = bag.get(term, 0)
                if tf:
                    total += weight * self._idf[term] * tf * (self.k1 + 1) / (tf + norm)
            found.append(total)
        return found

    def best(self, query: str, limit: int = 5) -> List[Tuple[Section, float]]:
        ranked = sorted(zip(self.sections, self.scores(query), strict=True), key=lambda pair: -pair[1])
        return [(section, round(score, 3)) for section, score in ranked[:limit] if score > 0]


def _contains(tokens: Tuple[str, ...], phrase: Tuple[str, ...]) -> bool:
    size = len(phrase)
    return any(tokens[i : i + size] == phrase for i in range(len(tokens) - size + 1))


def search(
    pages: Mapping[str, Sequence[Section]],
    query: str,
    language: Optional[str] = None,
    limit: int = 5,
    indexes: Optional[Dict[str, Lexical]] = None,
    groups: Optional[Groups] = None,
) -> List[Tuple[Section, float]]:
    """The sections that best match `query` lexically, in `language` or in every
    language (best first); `indexes` keeps the BM25 tables between calls."""
    chosen: Iterable[str] = [language] if language is not None and language in pages else list(pages)
    results: List[Tuple[Section, float]] = []
    for lang in chosen:
        index = indexes.get(lang) if indexes is not None else None
        if index is None:
            index = Lexical(pages[lang], (groups or {}).get(lang, ()))
            if indexes is not None:
                indexes[lang] = index
        results += index.best(query, limit)
    return sorted(results, key=lambda pair: -pair[1])[:limit]
