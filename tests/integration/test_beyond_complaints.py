"""Issue 26, "What a customer gets today", case by case, in both languages: what the
customer actually reads from the really trained model and the live action server (the
help pages are the tests' own, tests/data/help; customers and orders too, tests/shop.py).
The same cases as conversation tests are in tests/test_conversations_{en,vi}.yml."""

import pytest

from contract.text import has_vietnamese_marks
from tests.integration.test_rest_conversations import Customer
from tests.shop import new_customer

pytestmark = pytest.mark.integration


def vietnamese(replies) -> bool:
    return bool(replies.texts) and all(has_vietnamese_marks(t) for t in replies.texts)


@pytest.mark.parametrize(
    "question, language, answer",
    [
        (
            "do you ship to Da Nang?",
            "en",
            "We deliver to every province in Vietnam, Da Nang and Hanoi included.",
        ),
        (
            "co ship ra da nang ko shop",
            "vi",
            "Shop giao đến mọi tỉnh thành ở Việt Nam, kể cả Đà Nẵng và Hà Nội.",
        ),
    ],
)
def test_a_question_about_the_shop_is_answered_from_its_pages_in_the_customers_language(
    assistant, question, language, answer
):
    replies = Customer(assistant).say(question)
    assert answer in replies.all_text
    assert ('"Delivery"' in replies.all_text) if language == "en" else ('"Giao hàng"' in replies.all_text)
    if language == "en":  # an English question naming a Vietnamese city is answered in English
        assert not any(has_vietnamese_marks(t) for t in replies.texts)
    else:
        assert vietnamese(replies)
    assert replies.handoff is None and "can't help" not in replies.all_text


@pytest.mark.parametrize(
    "language, complaint, question, hours, asked",
    [
        (
            "en",
            "my parcel still hasn't arrived",
            "by the way what are your opening hours?",
            "Every day from 08:00 to 22:00",
            "Which order is it about?",
        ),
        (
            "vi",
            "shop ơi hàng của mình vẫn chưa tới",
            "à mà shop làm việc đến mấy giờ vậy?",
            "Tất cả các ngày từ 08:00 đến 22:00",
            "mã đơn hàng",
        ),
    ],
)
def test_a_question_mid_complaint_is_answered_and_the_complaint_carries_on(
    assistant, language, complaint, question, hours, asked
):
    thu = new_customer(assistant.redis_url, orders=(("in_transit", 600_000),))
    customer = Customer(assistant)
    first = customer.say(complaint)
    assert asked in first.all_text
    answered = customer.say(question)
    assert hours in answered.all_text
    assert "didn't quite follow" not in answered.all_text and "chưa hiểu ý" not in answered.all_text
    assert answered.all_text.count(asked) == 1  # the open question again, once
    carried = customer.say(f"{thu.order.order_id}")
    assert thu.order.order_id in carried.all_text  # the complaint goes on where it was


def test_are_you_a_bot_inside_a_complaint_is_answered_and_the_complaint_goes_on(assistant):
    replies = Customer(assistant).say("my parcel is late. am I talking to a real person or a bot?")
    assert "automated assistant" in replies.all_text and "not a person" in replies.all_text
    assert "I'm sorry your order hasn't reached you" in replies.all_text
    assert replies.handoff is None and "Talk to a person" in [b["title"] for b in replies.buttons]


def test_vi_are_you_a_real_person_gets_a_straight_answer_not_a_handoff(assistant):
    replies = Customer(assistant).say("bạn là người thật hay máy vậy?")
    assert "trợ lý tự động" in replies.all_text and "không phải người thật" in replies.all_text
    assert replies.handoff is None and vietnamese(replies)
    assert [b["payload"] for b in replies.buttons] == ["/request_human"]


@pytest.mark.parametrize(
    "language, request_text, sorry, asked",
    [
        (
            "en",
            "my refund is late, I want to talk to someone",
            "your refund is taking so long",
            "Which order",
        ),
        ("vi", "hoàn tiền chậm quá, cho mình gặp nhân viên", "việc hoàn tiền bị chậm trễ", "mã đơn hàng"),
    ],
)
def test_a_request_for_a_person_taken_back_carries_on_with_the_complaint_it_told(
    assistant, language, request_text, sorry, asked
):
    """The hub sends /cancel_handoff once a waiting customer takes the request back
    (tests/hub/test_beyond_complaints.py); here, what the assistant then says."""
    customer = Customer(assistant)
    handed = customer.say(request_text)
    assert handed.handoff is not None
    back = customer.say("/cancel_handoff")
    assert ("taken you out of the queue" in back.all_text) or ("rút yêu cầu gặp nhân viên" in back.all_text)
    # Sorry for the problem once: with the handoff (a complaint that asked for a person)
    # or after it is taken back (a request for a person that told the complaint).
    assert f"{handed.all_text} {back.all_text}".count(sorry) == 1
    assert asked in back.all_text
    assert "added that to your case" not in back.all_text and back.handoff is None
    # Nothing the customer said was dropped: no "I didn't understand" after the handoff.
    assert "chưa rõ" not in handed.all_text and "not sure what you" not in handed.all_text


@pytest.mark.parametrize(
    "language, text, sorry",
    [
        ("en", "order 2207718 is a disaster", "I'm so sorry, that sounds really frustrating. What happened?"),
        ("en", "😡😡😡", "I'm sorry something went wrong"),
        ("vi", "😡😡", "Em rất tiếc vì anh/chị gặp chuyện không vui"),
    ],
)
def test_anger_with_nothing_to_go_on_gets_an_apology_and_what_happened(assistant, language, text, sorry):
    customer = Customer(assistant)
    if language == "vi":  # emoji alone tell no language: the conversation's stays
        customer.say("chào shop")
    replies = customer.say(text)
    assert sorry in replies.all_text
    assert not replies.all_text.startswith("Thanks") and "not sure what you'd like" not in replies.all_text


@pytest.mark.parametrize(
    "text, expected, unexpected",
    [
        ("the teapot I ordered never came", "I'm sorry your order hasn't reached you", "the right item"),
        ("ấm trà mình đặt không thấy tới", "đơn hàng chưa tới tay anh/chị", "giao nhầm"),
        ("I want my money back", "Of course, I can help with that", "refund is taking so long"),
        ("tôi muốn lấy lại tiền", "em hỗ trợ anh/chị ngay", "hoàn tiền bị chậm trễ"),
        (
            "mình muốn hủy đơn vì đợi lâu quá rồi",
            "Em xin lỗi vì đã để anh/chị phải chờ lâu.",
            "Xin lỗi, em chưa hiểu",
        ),
        (
            "I want to cancel my order because I've waited too long",
            "I'm sorry you've had to wait so long.",
            "didn't",
        ),
    ],
)
def test_what_the_customer_asked_for_is_what_they_get(assistant, text, expected, unexpected):
    replies = Customer(assistant).say(text)
    assert expected in replies.all_text and unexpected not in replies.all_text


@pytest.mark.parametrize(
    "text, sorry",
    [
        (
            "MY ORDER IS TWO WEEKS LATE!!! THIS IS UNACCEPTABLE!!! let me talk to a manager",
            "your order hasn't reached you",
        ),
        (
            "ĐƠN HÀNG GIAO TRỄ 2 TUẦN RỒI!!! LÀM ĂN KIỂU GÌ VẬY!!! cho gặp quản lý",
            "đơn hàng chưa tới tay anh/chị",
        ),
        # "nhân viên" (a member of staff) asked for is not a complaint about the staff.
        ("hoàn tiền chậm quá, cho mình gặp nhân viên", "hoàn tiền bị chậm trễ"),
        ("hoan tien cham qua cho minh gap nhan vien", "hoàn tiền bị chậm trễ"),
    ],
)
def test_a_manager_asked_for_in_an_angry_complaint_comes_at_once_with_the_apology(assistant, text, sorry):
    replies = Customer(assistant).say(text)
    assert sorry in replies.all_text and replies.handoff is not None
    assert replies.handoff["reason"] == "customer_asked"
    assert "which of these" not in replies.all_text.lower() and "thuộc trường hợp nào" not in replies.all_text


def test_vi_thanks_in_the_middle_of_the_proof_question_asks_it_once(assistant):
    thu = new_customer(assistant.redis_url)
    customer = Customer(assistant)
    asked = customer.say(f"shop oi don {thu.order.order_id} chua thay giao")
    assert "email hoặc số điện thoại" in asked.all_text
    thanks = customer.say("ok cảm ơn nhé")
    assert thanks.texts[0] == "Dạ không có gì ạ."
    assert "còn cần em hỗ trợ gì nữa" not in thanks.all_text  # never "anything else?" and the question
    assert thanks.all_text.count("email hoặc số điện thoại") == 1


@pytest.mark.parametrize(
    "language, late, proof, correction, sorry",
    [
        (
            "en",
            "my parcel {} is really late",
            "it's {}",
            "no, it's not late, it arrived broken",
            "Sorry, I got that wrong.",
        ),
        (
            "vi",
            "đơn {} giao trễ quá",
            "email của mình là {}",
            "không phải giao trễ, hàng tới bị vỡ rồi",
            "Xin lỗi anh/chị, em đã hiểu nhầm.",
        ),
    ],
)
def test_a_correction_changes_the_complaint_with_its_apology_and_remedies_keeping_every_detail(
    assistant, language, late, proof, correction, sorry
):
    thu = new_customer(assistant.redis_url, orders=(("delivered", 480_000),))
    customer = Customer(assistant)
    customer.say(late.format(thu.order.order_id))
    offered = customer.say(proof.format(thu.customer.email))
    first_offer = [b["payload"] for b in offered.buttons]
    corrected = customer.say(correction)
    assert sorry in corrected.all_text
    assert ("arrived damaged" in corrected.all_text) or ("hư hỏng" in corrected.all_text)
    # Nothing asked again (the order and its proof are kept), and remedies for damage.
    assert "Which order" not in corrected.all_text and "email hoặc số điện thoại" not in corrected.all_text
    assert "what's the email" not in corrected.all_text
    now_offered = [b["payload"] for b in corrected.buttons]
    assert now_offered and now_offered != first_offer
    assert any("replacement" in p for p in now_offered)
