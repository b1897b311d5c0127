"""contract/case.py: the typed case, its one set of defaults, and cases stored before it."""

import json

from pydantic import ValidationError
import pytest

from contract.case import CLOSED, OPEN, Case, new_case_ref, read_case

# A case as main stored it before the model (actions/memory.py save_case of an
# acknowledged complaint, then handed off and scored): words for severity reasons.
STORED_BEFORE = {
    "conversation_id": "rest-abc",
    "complaint_type": "complain_damaged",
    "status": "remedy_in_progress",
    "language": "vi",
    "severity": {
        "level": "high",
        "reasons": ["complain_damaged (base 2)", "angry tone: furious", "gold customer"],
    },
    "ref": "SR-7KQ2MD",
    "created_at": 1700000000.5,
    "updated_at": 1700000100.0,
    "customer_id": "c0ffee",
    "order_id": "1048213",
    "offered": ["refund", "replacement"],
    "answers": [{"remedy": "refund", "answer": "declined"}, {"remedy": "replacement", "answer": "accepted"}],
    "applied_remedy": "replacement",
    "csat": 4,
    "csat_text": "4 thanks",
    "item_checked": True,
}


def test_a_new_case_has_one_set_of_defaults():
    case = Case.new("rest-x", "complain_delivery")
    assert case.ref.startswith("SR-") and len(case.ref) == 9 and case.ref != Case.new("rest-x", None).ref
    assert (case.status, case.conversation_id, case.complaint_type) == (OPEN, "rest-x", "complain_delivery")
    assert case.severity is None and case.order_id is None and case.offered == [] and case.answers == []
    assert case.created_at > 0 and not case.closed
    assert set(new_case_ref()[3:]) <= set("ABCDEFGHJKLMNPQRSTUVWXYZ23456789")


def test_a_case_stored_before_the_model_loads_with_its_words_kept_as_notes():
    case = read_case(json.dumps(STORED_BEFORE, ensure_ascii=False))
    assert case.ref == "SR-7KQ2MD" and case.status == "remedy_in_progress" and case.csat == 4
    assert [(a.remedy, a.answer) for a in case.answers] == [
        ("refund", "declined"),
        ("replacement", "accepted"),
    ]
    assert case.severity.level == "high" and case.severity.reasons == []
    assert case.severity.notes == ["complain_damaged (base 2)", "angry tone: furious", "gold customer"]
    assert read_case(None) is None and read_case("") is None


def test_a_stored_key_the_model_does_not_know_survives_a_change():
    case = read_case(json.dumps({**STORED_BEFORE, "escalated_to": "team lead"}))
    stored = json.loads(case.changed(status=CLOSED).stored())
    assert stored["escalated_to"] == "team lead" and stored["status"] == "closed"
    assert stored["severity"]["notes"][0] == "complain_damaged (base 2)"


def test_a_change_is_checked_as_a_new_case_would_be():
    case = Case.new("rest-x", "complain_wait")
    assert case.changed(severity={"level": "low", "reasons": ["base"], "notes": []}).severity.reasons == [
        "base"
    ]
    with pytest.raises(ValidationError):
        case.changed(status="lost")
    with pytest.raises(ValidationError):
        case.changed(answers=[{"remedy": "refund"}])  # an answer needs its answer
