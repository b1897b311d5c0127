"""Vietnamese typed without marks gets them back from the shop's own writing, for the
knowledge index's e5 vectors (actions/diacritics.py)."""

from actions.diacritics import MarkRestorer, project_writing


def test_a_pair_of_syllables_takes_the_marks_it_is_written_with():
    restorer = MarkRestorer(["Anh/chị muốn trả hàng hay đổi size?", "Một ấm trà xanh"])
    # "tra" alone is as often "trả" as "trà" here; with "hang" beside it, only "trả hàng".
    assert restorer.restore("muon tra hang") == "muốn trả hàng"
    assert restorer.restore("am tra xanh") == "ấm trà xanh"


def test_a_syllable_the_writing_never_has_stays_as_typed():
    restorer = MarkRestorer(["giao hàng tận nơi"])
    assert restorer.restore("giao hang Campuchia") == "giao hàng campuchia"


def test_a_text_with_marks_is_left_as_its_writer_typed_it():
    restorer = MarkRestorer(["trả hàng"])
    assert restorer.restore("tra hàng") == "tra hàng"


def test_the_projects_writing_restores_a_customers_question():
    restorer = MarkRestorer(project_writing())
    assert restorer.restore("lam sao de theo doi don hang") == "làm sao để theo dõi đơn hàng"
    # Entity annotations of the NLU examples are read as their text.
    assert not any("](" in line for line in project_writing())
