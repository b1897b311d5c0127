from actions.severity import assess
from contract.handoff import SEVERITY_REASONS


def test_a_calm_first_complaint_is_low():
    result = assess("complain_delivery", 1, "my parcel hasn't arrived yet")
    assert result.level == "low"


def test_anger_in_english_raises_severity_and_says_why():
    calm = assess("complain_delivery", 1, "my parcel hasn't arrived yet")
    result = assess("complain_delivery", 1, "This is RIDICULOUS, worst shop ever!!!")
    # Anger adds at most 2: a late parcel (1) becomes medium (3), never more on its own.
    assert (calm.level, calm.score) == ("low", 1)
    assert (result.level, result.score) == ("medium", 3)
    assert "angry_tone" in result.reasons and "angry_tone: ridiculous, worst, '!!!'" in result.notes


def test_anger_in_vietnamese_without_diacritics_counts():
    calm = assess("complain_damaged", 2, "hang bi vo")
    angry = assess("complain_damaged", 2, "lam an kieu gi vay, that vong qua")
    assert angry.score >= calm.score + 2


def test_anger_in_vietnamese_with_diacritics_counts():
    result = assess("complain_damaged", 2, "Làm ăn kiểu gì vậy, lừa đảo à")
    assert result.score >= 4


def test_loyal_customer_repeat_contact_and_value_each_add_one():
    base = assess("complain_billing", 2, "I was charged twice").score
    assert assess("complain_billing", 2, "I was charged twice", tier="gold").score == base + 1
    assert assess("complain_billing", 2, "I was charged twice", repeat_on_record=True).score == base + 1
    assert assess("complain_billing", 2, "charged twice, second time this happens").score == base + 1
    assert assess("complain_billing", 2, "I was charged twice", order_value=5_400_000).score == base + 1


def test_a_problem_that_goes_on_is_not_a_repeat_contact():
    for text in ("my parcel is still not here", "still no refund", "don 1048213 van chua toi"):
        assert "repeat_contact" not in assess("complain_delivery", 1, text).reasons, text
    for text in ("I wrote to you already, still not here, second time", "hang lai bi hong lan thu 2"):
        assert "repeat_contact" in assess("complain_delivery", 1, text).reasons, text


def test_three_levels_below_critical_and_critical_at_the_top():
    levels = {
        assess("complain_wait", 1, "no reply").level,
        assess("complain_staff", 2, "the courier was rude").level,
        assess("complain_staff", 2, "the courier was rude, unacceptable", tier="vip").level,
        assess("complain_staff", 2, "RUDE courier, unacceptable, third time!!!", tier="vip").level,
    }
    assert levels == {"low", "medium", "high", "critical"}


def test_safety_is_always_critical():
    assert assess("complain_defect", 1, "the kettle caught fire").level == "critical"
    assert assess("complain_defect", 1, "am sieu toc bi chay no").level == "critical"


def test_the_reasons_are_the_contracts_codes_and_the_notes_what_was_seen():
    result = assess(
        "complain_defect",
        1,
        "THE KETTLE CAUGHT FIRE, UNACCEPTABLE!!!",
        tier="vip",
        repeat_on_record=True,
        order_value=5_400_000,
    )
    assert result.reasons == [
        "base",
        "angry_tone",
        "vip_customer",
        "repeat_contact",
        "high_value_order",
        "safety_risk",
    ]
    assert set(result.reasons) <= set(SEVERITY_REASONS)  # what the packet and the console know
    assert result.notes == [
        "base: complain_defect (1)",
        "angry_tone: unacceptable, ALL CAPS, '!!!'",
        "high_value_order: 5400000",
        "safety_risk: caught fire",
    ]
    assert assess("complain_wait", 1, "no reply", tier="gold").reasons == ["base", "gold_customer"]
    assert assess("complain_wait", 1, "no reply", tier="silver").reasons == ["base"]
    assert result.as_severity().dict() == {
        "level": "critical",
        "reasons": result.reasons,
        "notes": result.notes,
    }
