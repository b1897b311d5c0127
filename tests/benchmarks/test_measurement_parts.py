"""The parts of `make eval` and `make bench` that judge results: if these were wrong,
the published figures would be too."""

from collections import Counter
from pathlib import Path

import pytest
import yaml

from actions.playbook import load_playbook
from benchmarks import trackers
from benchmarks.chaos import Run
from benchmarks.load import burst_problems
from benchmarks.metrics import (
    by_source,
    entity_figures,
    entity_set,
    per_intent_figures,
    spread,
    top_real_intent,
)
from benchmarks.nlu_quality import HELDOUT_INTENTS, LANGUAGES, cv_figures, load_heldout_intents
from benchmarks.orderbook import OrderBook
from scripts.nlu_eval import ASKED_WHICH, acted_intent, complaint_figures, intent_figures

ROOT = Path(__file__).resolve().parent.parent.parent


def turn(text, *actions):
    events = [{"event": "user", "text": text, "timestamp": 0}]
    events += [{"event": "action", "name": name, "timestamp": 0} for name in actions]
    return events + [{"event": "action", "name": "action_listen", "timestamp": 0}]


START = [
    {"event": "action", "name": "action_session_start", "timestamp": 0},
    {"event": "session_started", "timestamp": 0},
    {"event": "action", "name": "action_listen", "timestamp": 0},
]


def test_whole_turns_in_the_order_sent_pass():
    events = START + turn("hi", "utter_greet") + turn("my parcel is late", "action_acknowledge_complaint")
    assert trackers.problems(events, ["hi", "my parcel is late"]) == []


def test_interleaved_lost_doubled_or_unfinished_turns_are_caught():
    interleaved = START + [
        {"event": "user", "text": "a", "timestamp": 0},
        {"event": "user", "text": "b", "timestamp": 0},
        {"event": "action", "name": "utter_x", "timestamp": 0},
        {"event": "action", "name": "action_listen", "timestamp": 0},
    ]
    assert any("still running" in p for p in trackers.problems(interleaved, ["a", "b"]))
    lost = START + turn("a", "utter_x")
    assert trackers.problems(lost, ["a", "b"])
    doubled = START + turn("a", "utter_x") + turn("a", "utter_x")
    assert trackers.problems(doubled, ["a"])
    unfinished = START + turn("a", "utter_x")[:-1]
    assert any("did not end" in p for p in trackers.problems(unfinished, ["a"]))
    swapped = START + turn("b", "utter_x") + turn("a", "utter_y")
    assert trackers.problems(swapped, ["a", "b"])


def test_a_burst_may_be_handled_in_either_order_but_each_turn_whole():
    sent = ["first", "one", "two"]
    either = START + turn("first", "u") + turn("two", "u") + turn("one", "u")
    assert burst_problems(either, sent) == []
    mixed = (
        START
        + turn("first", "u")
        + [
            {"event": "user", "text": "one", "timestamp": 0},
            {"event": "user", "text": "two", "timestamp": 0},
            {"event": "action", "name": "u", "timestamp": 0},
            {"event": "action", "name": "action_listen", "timestamp": 0},
        ]
    )
    assert burst_problems(mixed, sent)
    one_lost = START + turn("first", "u") + turn("one", "u")
    assert burst_problems(one_lost, sent)


def test_entities_match_on_type_and_normalised_value():
    gold = [
        entity_set([{"entity": "phone", "value": "0912345678"}, {"entity": "order_id", "value": "5520981"}])
    ]
    predicted = [
        entity_set(
            [
                {"entity": "phone", "value": "0912 345 678"},
                {"entity": "order_id", "value": "552098"},  # wrong number
                {"entity": "remedy", "value": "refund"},
            ]
        )
    ]  # not measured
    figures = entity_figures(gold, predicted)
    assert figures["phone"] == {"gold": 1, "predicted": 1, "precision": 1.0, "recall": 1.0}
    assert figures["order_id"]["precision"] == 0.0 and figures["order_id"]["recall"] == 0.0
    assert entity_set([{"entity": "email", "value": "Lan.Nguyen@Example.com."}]) == {
        ("email", "lan.nguyen@example.com")
    }


def test_intent_and_complaint_figures():
    intents = intent_figures(["greet", "greet", "deny"], ["greet", "deny", "deny"])
    assert intents["accuracy"] == round(2 / 3, 3) and intents["macro_f1"] == round(2 / 3, 3)
    complaint = complaint_figures([True, True, False], ["complain_wait", "greet", "request_human"])
    assert complaint == {"rows": 3, "precision": 0.5, "recall": 0.5, "f1": 0.5}
    # A request for a person labelled as no complaint, and predicted so: not a false alarm.
    right = complaint_figures(
        [True, True, False], ["complain_wait", "greet", "request_human"], [None, None, "request_human"]
    )
    assert right == {"rows": 3, "precision": 1.0, "recall": 0.5, "f1": 0.667}


def test_as_the_bot_acts_a_complaint_the_classifier_gave_up_on_or_put_out_of_scope_is_asked_about():
    knobs = load_playbook().understanding  # the tests' playbook
    each = knobs.complaint_at_least / 1.8

    def parsed(intent, complaint_share, text="my parcel"):
        first = {"name": intent, "confidence": 1 - 2 * complaint_share}
        return {
            "text": text,
            "intent": first,
            "intent_ranking": [
                first,
                {"name": "complain_delivery", "confidence": complaint_share},
                {"name": "complain_wait", "confidence": complaint_share},
            ],
        }

    for intent in ("nlu_fallback", "out_of_scope"):
        assert acted_intent(parsed(intent, each), knobs) == ASKED_WHICH
        assert acted_intent(parsed(intent, each / 2), knobs) == intent
    # An angry customer the classifier gave up on is asked, never told to rephrase; out
    # of scope, anger alone is no complaint ("do you sell shoes???").
    assert acted_intent(parsed("nlu_fallback", each / 2, "WORST SHOP EVER!!!"), knobs) == ASKED_WHICH
    assert acted_intent(parsed("out_of_scope", each / 2, "DO YOU SELL SHOES???"), knobs) == "out_of_scope"
    # Other intents are taken at their word, as the bot does.
    assert acted_intent(parsed("greet", each), knobs) == "greet"
    assert complaint_figures([True], [ASKED_WHICH])["recall"] == 1.0


def test_the_order_book_gives_every_customer_an_order_of_their_own(tmp_path):
    book = OrderBook(["5520981", "2207718"], per_template=3)
    taken = [book.take("5520981") for _ in range(3)]
    assert len(set(taken)) == 3 and all(6 <= len(t) <= 10 and t.isdigit() for t in taken)
    shop = yaml.safe_load(book.write(tmp_path / "orders.yml").read_text())["shop"]
    copy = next(o for o in shop["orders"] if o["order_id"] == taken[0])
    assert copy["status"] == "lost" and copy["email"] == f"bench-{taken[0]}@example.com"
    assert {c["email"] for c in shop["customers"]} >= {o["email"] for o in shop["orders"]}
    try:
        book.take("5520981")
    except RuntimeError as error:
        assert "ran out" in str(error)
    else:
        raise AssertionError("a fourth copy was handed out")


def test_per_intent_f1_and_the_most_frequent_wrong_predictions():
    gold = ["greet"] * 4 + ["deny"] * 6
    predicted = ["greet", "greet", "deny", "thank"] + [
        "deny",
        "nlu_fallback",
        "greet",
        "greet",
        "affirm",
        "nlu_fallback",
    ]
    figures = per_intent_figures(gold, predicted, top=2)
    assert set(figures) == {"greet", "deny"}  # only gold labels get a row
    greet, deny = figures["greet"], figures["deny"]
    assert (greet["support"], greet["precision"], greet["recall"]) == (4, 0.5, 0.5)
    assert greet["f1"] == 0.5
    assert (deny["precision"], deny["recall"], deny["f1"]) == (0.5, round(1 / 6, 3), 0.25)
    # most frequent first, ties by name, cut at `top`; right predictions never count
    assert deny["confused_with"] == [["greet", 2], ["nlu_fallback", 2]]
    assert greet["confused_with"] == [["deny", 1], ["thank", 1]]
    assert per_intent_figures(["greet"], ["greet"])["greet"]["confused_with"] == []


def test_the_top_real_intent_is_the_one_ranked_first_before_the_fallback():
    fell_back = {
        "intent": {"name": "nlu_fallback", "confidence": 0.4},
        "intent_ranking": [
            {"name": "nlu_fallback", "confidence": 0.4},
            {"name": "complain_staff", "confidence": 0.35},
            {"name": "complain_wait", "confidence": 0.3},
        ],
    }
    assert top_real_intent(fell_back) == "complain_staff"
    confident = {
        "intent": {"name": "greet", "confidence": 0.9},
        "intent_ranking": [{"name": "greet"}, {"name": "thank"}],
    }
    assert top_real_intent(confident) == "greet"
    assert top_real_intent({"intent": {"name": "nlu_fallback"}, "intent_ranking": []}) == "nlu_fallback"
    assert top_real_intent({"intent": {"name": "nlu_fallback"}}) == "nlu_fallback"


def test_external_figures_are_grouped_per_source():
    rows = [
        {"text": "a", "lang": "en", "source": "s1", "intent": "greet", "complaint": False},
        {"text": "b", "lang": "en", "source": "s1", "intent": "complain_wait", "complaint": True},
        {"text": "c", "lang": "en", "source": "s2", "intent": None, "complaint": True},
        {"text": "d", "lang": "vi", "source": "s3", "intent": None, "complaint": False},
    ]
    predicted = ["greet", "greet", "complain_refund", "complain_refund"]
    figures = by_source(rows, predicted)
    assert sorted(figures) == ["s1", "s2", "s3"]
    assert list(figures["s1"]) == ["en"] and list(figures["s3"]) == ["vi"]
    assert figures["s1"]["en"]["messages"] == 2 and figures["s1"]["en"]["intent_accuracy"] == 0.5
    assert figures["s2"]["en"]["complaint_recall"] == 1.0 and "intent_rows" not in figures["s2"]["en"]
    assert figures["s3"]["vi"]["complaint_precision"] == 0.0


def test_spread_of_per_fold_figures():
    assert spread([0.7, 0.8, 0.9]) == {"n": 3, "mean": 0.8, "std": 0.082, "min": 0.7, "max": 0.9}
    assert spread([0.5]) == {"n": 1, "mean": 0.5, "std": 0.0, "min": 0.5, "max": 0.5}
    assert spread([])["mean"] is None


class _Message(dict):
    pass


def test_cross_validation_figures_pool_every_seed_and_spread_over_each_fold():
    examples = [("en", _Message(intent=i)) for i in ("greet", "greet", "deny", "deny")]
    examples += [("vi", _Message(intent=i)) for i in ("greet", "deny")]
    runs = [
        {
            "folds": [0, 1, 0, 1, 0, 1],
            "acted": ["greet", "greet", "deny", "nlu_fallback", "greet", "deny"],
            "top_real": ["greet", "greet", "deny", "deny", "greet", "deny"],
        },
        {
            "folds": [1, 0, 0, 1, 0, 1],
            "acted": ["greet", "deny", "deny", "deny", "deny", "deny"],
            "top_real": ["greet", "deny", "deny", "deny", "deny", "deny"],
        },
    ]
    figures = cv_figures(examples, runs, k=2)
    en = figures["en"]
    assert en["examples"] == 4 and en["rows"] == 8  # every example once per seed
    assert en["accuracy"] == round(6 / 8, 3) and en["top_real"]["accuracy"] == round(7 / 8, 3)
    # run 1: fold 0 {greet, deny} all right, fold 1 {greet, deny->fallback};
    # run 2: fold 0 {greet->deny, deny} , fold 1 {greet, deny} all right
    assert en["spread"]["accuracy"] == {"n": 4, "mean": 0.75, "std": 0.25, "min": 0.5, "max": 1.0}
    assert en["top_real"]["spread"]["accuracy"]["min"] == 0.5
    assert en["per_intent"]["deny"]["confused_with"] == [["nlu_fallback", 1]]
    assert figures["vi"]["accuracy"] == 0.75


DOMAIN_ONLY = {"agent_handback", "cancel_handoff"}  # sent by the hub, never typed by a customer


def _customer_intents():
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    return set(domain["intents"]) - DOMAIN_ONLY


@pytest.fixture(scope="module")
def heldout():
    return load_heldout_intents()


def test_the_heldout_intent_set_covers_every_customer_intent_in_each_language(heldout):
    assert set(heldout) == set(LANGUAGES) and all(path.exists() for path in HELDOUT_INTENTS.values())
    for lang, messages in heldout.items():
        counts = Counter(m.get("intent") for m in messages)
        assert set(counts) == _customer_intents(), lang
        short = {intent: n for intent, n in counts.items() if n < 20}
        assert not short, f"{lang}: fewer than 20 examples for {short}"


def test_the_heldout_intent_set_shares_no_sentence_with_the_training_data(heldout):
    from rasa.shared.nlu.training_data.loading import load_data

    trained = {
        m.get("text").strip().lower()
        for lang in LANGUAGES
        for m in load_data(str(ROOT / "data" / "nlu" / lang)).intent_examples
    }
    for lang, messages in heldout.items():
        texts = [m.get("text").strip().lower() for m in messages]
        assert not [t for t in texts if t in trained], lang
        assert not [t for t, n in Counter(texts).items() if n > 1], f"{lang}: repeated sentences"


def test_the_heldout_intent_set_is_vietnamese_by_file_a_third_without_marks_and_tags_only_known_entities(
    heldout,
):
    from contract.text import has_vietnamese_marks

    assert not [m.get("text") for m in heldout["en"] if has_vietnamese_marks(m.get("text"))]
    plain = sum(not has_vietnamese_marks(m.get("text")) for m in heldout["vi"])
    assert 0.3 <= plain / len(heldout["vi"]) <= 0.45
    for messages in heldout.values():
        assert {e["entity"] for m in messages for e in m.get("entities") or []} <= {
            "order_id",
            "email",
            "phone",
        }


def test_the_fault_run_tells_the_hubs_apologies_from_answers():
    # `make chaos` counts "apologised" replies per phase; the hub's apology names the
    # conversation's case (data/hub/messages.yml), which the run cannot know in advance.
    hub = yaml.safe_load((ROOT / "data" / "hub" / "messages.yml").read_text(encoding="utf-8"))["hub_messages"]
    run = Run(["http://127.0.0.1:1"], interval=1.0)
    for lang in LANGUAGES:
        apology = hub["assistant_unavailable"][lang].format(case_ref="SR-AB12CD")
        assert run.kind([{"text": apology}]) == "apologised"
        assert hub["one_moment"][lang] in run.send_again  # a limit keeps nothing: sent again, not apologised
        assert run.kind([{"text": apology[: len(apology) // 2]}]) == "answered"  # a start is not the message
    assert run.kind([{"text": "Which order is it about?"}]) == "answered"
    assert run.kind([{"custom": {"handoff": {}}}]) == "answered"
    assert run.kind([]) == "no reply"


def test_cpu_and_redis_commands_per_message_of_a_bench_phase():
    from benchmarks.load import commands_between, cpu_per_message

    resources = {"rasa": {"cpu_seconds": 2.0}, "hub": {"cpu_seconds": 0.25}, "other": {"cpu_seconds": 9.0}}
    assert cpu_per_message(resources, 40) == {"rasa": 50.0, "hub": 6.2}  # ms per message; only known roles
    assert cpu_per_message(resources, 0) == {}
    # The benchmark's own INFO reading is not the turns' work; commands not run are left out.
    assert commands_between({"get": 10, "info": 3}, {"get": 25, "info": 4, "xadd": 5, "ping": 0}) == {
        "get": 15,
        "xadd": 5,
    }


def test_the_fuzzer_signs_a_zalo_event_whose_stamp_is_any_text():
    """Hypothesis gives the event's timestamp any text, a lone surrogate too (make chaos
    failed on one in the fuzzer itself): it is signed as the body carries it, and a
    digits stamp as the hub checks it."""
    from benchmarks.fuzz import encoded, zalo_mac
    from bot.channels.zalo import mac_of

    raw = encoded({"timestamp": "\ud9e7"}, False)
    assert len(zalo_mac("app", raw, "\ud9e7", "secret")) == 64
    assert zalo_mac("app", b"{}", "1700000000000", "secret") == mac_of(
        "app", b"{}", "1700000000000", "secret"
    )
