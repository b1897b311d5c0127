"""Vietnamese typed without diacritics, given its marks back from the shop's own writing,
so the e5 vectors read it as the pages are written.

About a third of Vietnamese customers type without marks ("tra hang co mat phi ko").
The e5 model reads "trả hàng" and "tra hang" as rather different texts, and the help
pages are written with marks: a question without them lands far from the section that
answers it. A syllable without marks is most often one word in the shop's own Vietnamese
(the NLU's examples, the bot's replies, the help pages), and a pair of neighbours almost
always is: "tra hang" is "trả hàng" there, never "trà hàng". So each syllable takes the
marked form seen most with its neighbour (left or right), else the one seen most alone,
else stays as it was. A text that has any mark is left as typed: its writer chose them.

Only the knowledge index uses this (actions/knowledge.py): the lexical matching folds
marks anyway, and the NLU was trained on both spellings.
"""

from collections import Counter, defaultdict
from pathlib import Path
import re
from typing import DefaultDict, Iterable, List, Tuple

from contract.text import fold, has_vietnamese_marks, words

ROOT = Path(__file__).resolve().parent.parent
# The project's Vietnamese writing: NLU examples, replies, stories, the hub's messages.
SOURCES = ("data/**/*.yml", "data/**/*.md", "domain.yml")
# Rasa's entity annotations in NLU examples: "[2207718](order_id)" -> "2207718".
_ANNOTATION_RE = re.compile(r"\[([^\]]*)\]\([^)]*\)|\[([^\]]*)\]\{[^}]*\}")


def project_writing(root: Path = ROOT) -> List[str]:
    """Every line with Vietnamese marks in the project's data and domain, annotations
    taken out."""
    lines: List[str] = []
    for pattern in SOURCES:
        for path in sorted(root.glob(pattern)):
            for line in path.read_text(encoding="utf-8").splitlines():
                if has_vietnamese_marks(line):
                    lines.append(_ANNOTATION_RE.sub(lambda m: m.group(1) or m.group(2) or "", line))
    return lines


class MarkRestorer:
    """Folded syllables -> the marked forms seen in `texts`, alone and with a neighbour."""

    def __init__(self, texts: Iterable[str]) -> None:
        self.alone: DefaultDict[str, Counter] = defaultdict(Counter)
        self.paired: DefaultDict[Tuple[str, str], Counter] = defaultdict(Counter)
        for text in texts:
            seen = words(text)
            for word in seen:
                self.alone[fold(word)][word] += 1
            for left, right in zip(seen, seen[1:], strict=False):
                self.paired[(fold(left), fold(right))][(left, right)] += 1

    def restore(self, text: str) -> str:
        """`text` with its marks put back where the shop's writing knows them (lower case,
        words joined by single spaces); a text with any mark, unchanged."""
        if has_vietnamese_marks(text):
            return text
        typed = words(text)
        folded = [fold(w) for w in typed]
        restored = list(typed)
        for i, syllable in enumerate(folded):
            candidates: Counter = Counter()
            if i + 1 < len(folded):
                for (left, _), count in self.paired.get((syllable, folded[i + 1]), {}).items():
                    candidates[left] += count
            if i > 0:
                for (_, right), count in self.paired.get((folded[i - 1], syllable), {}).items():
                    candidates[right] += count
            if not candidates:
                candidates = self.alone.get(syllable, Counter())
            if candidates:
                restored[i] = candidates.most_common(1)[0][0]
        return " ".join(restored)
