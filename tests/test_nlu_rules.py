"""The rule-based parts of the NLU pipeline: language detection and detail extraction."""

import pytest

from contract.intents import REMEDY_FAMILIES
from contract.language import detect_language
from nlu.details import REMEDY_PHRASES, extract_details, refused_remedies, turns_offer_down


@pytest.mark.parametrize(
    "text,expected",
    [
        ("my order #1048213 was meant to arrive on Monday", "en"),
        ("I was charged twice for my last purchase", "en"),
        ("Đơn hàng của tôi giao trễ cả tuần rồi", "vi"),
        ("shop oi hang giao toi bi vo het roi, don 2207718", "vi"),
        ("ko can doi, tra tien lai cho toi", "vi"),
        ("cam on shop", "vi"),
        ("lan.nguyen@example.com", None),
        ("2207718", None),
        ("ok", None),
        ("/request_human", None),  # a button's payload says nothing about the customer's language
        ('/choose_remedy{"remedy": "refund"}', None),
    ],
)
def test_language(text, expected):
    assert detect_language(text) == expected


def _found(text):
    return [(e["entity"], e["value"], text[e["start"] : e["end"]]) for e in extract_details(text)]


def test_order_number_with_hash_keeps_hash_outside():
    assert _found("my order #1048213 is late") == [("order_id", "1048213", "1048213")]


def test_phone_formats_are_normalised():
    assert _found("goi 0912 345 678 nhe") == [("phone", "0912345678", "0912 345 678")]
    assert _found("+84 912 345 678") == [("phone", "+84912345678", "+84 912 345 678")]
    assert _found("call 091-234-5678") == [("phone", "0912345678", "091-234-5678")]


def test_email_is_lower_cased_without_trailing_dot():
    assert _found("it's Lan.Nguyen@Example.com.") == [
        ("email", "lan.nguyen@example.com", "Lan.Nguyen@Example.com")
    ]


def test_remedy_words_in_both_languages_with_or_without_diacritics():
    assert _found("I just want my money back") == [("remedy", "refund", "money back")]
    assert _found("hoàn tiền cho tôi") == [("remedy", "refund", "hoàn tiền")]
    assert _found("doi hang giup em") == [("remedy", "replacement", "doi hang")]


@pytest.mark.parametrize(
    "text,declines",
    [
        ("neither, I just want my money back", True),
        ("no voucher thanks, I'd rather have a refund", True),
        ("ko can doi, tra tien lai cho toi", True),
        ("không muốn voucher đâu", True),
        ("refund the shipping please", False),
        ("doi hang giup em", False),
    ],
)
def test_words_that_turn_an_offer_down_are_a_flag_beside_the_remedy_named(text, declines):
    assert turns_offer_down(text) is declines
    assert all(e["entity"] != "decline" for e in extract_details(text))


@pytest.mark.parametrize(
    "text,refused",
    [
        ("no, not a refund", ["refund"]),
        ("I don't want a replacement, I want my money back", ["replacement"]),
        ("I don’t want a refund", ["refund"]),
        ("a new one, not a refund", ["refund"]),
        ("I want a refund not a replacement", ["replacement"]),
        ("not a refund or a voucher", ["refund", "voucher"]),
        ("no refund, just resend it", ["refund"]),
        ("Tôi không cần hoàn tiền, gửi lại giúp tôi", ["refund"]),
        ("khong muon hoan tien ma muon doi hang", ["refund"]),
        ("k can gui lai dau, tra tien di", ["reship"]),
        # A "no" that answers the offer, or a "not" about something else, refuses nothing.
        ("no I want a refund", []),
        ("neither, I just want my money back", []),
        ("it's not arrived so I want a refund", []),
        ("I'd rather have a refund", []),
        ("hoan tien duoc khong", []),
    ],
)
def test_a_remedy_named_only_to_refuse_it_is_told_apart_from_the_one_wanted(text, refused):
    assert refused_remedies(text) == refused


def test_a_case_reference_is_found_in_any_case_and_never_read_as_an_order_number():
    assert _found("status of SR-7KQ2MD?") == [("case_ref", "SR-7KQ2MD", "SR-7KQ2MD")]
    assert _found("ho so sr7kq2md sao roi") == [("case_ref", "SR-7KQ2MD", "sr7kq2md")]
    assert _found("case SR-234567, order 1048213") == [
        ("case_ref", "SR-234567", "SR-234567"),
        ("order_id", "1048213", "1048213"),
    ]


def test_a_short_number_is_still_offered_as_an_order_number_for_the_form_to_check():
    assert _found("it's 12345") == [("order_id", "12345", "12345")]
    assert _found("2 items, 5 days late") == []


def test_the_remedy_words_name_exactly_the_families_the_playbook_may_use():
    assert sorted(REMEDY_PHRASES) == sorted(REMEDY_FAMILIES)


@pytest.mark.parametrize(
    "text, masked",
    [
        (
            "order #2207718 arrived broken, my email is Minh@Example.vn",
            "order #order number arrived broken, my email is email",
        ),
        ("hàng đơn 2207718 bị vỡ, sđt 0987 654 321", "hàng đơn mã đơn bị vỡ, sđt số điện thoại"),
        ("don 2207718 giao tre qua", "don mã đơn giao tre qua"),
        ("I want a refund please", "I want a refund please"),  # remedy words and the rest stay
    ],
)
def test_details_are_named_by_their_kind_for_the_intent_classifier(text, masked):
    from nlu.details import mask_details

    assert mask_details(text) == masked
