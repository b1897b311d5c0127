"""The parts of `make eval` and `make bench` that judge results: if these were wrong,
the published figures would be too."""

import yaml

from benchmarks import trackers
from benchmarks.load import burst_problems
from benchmarks.metrics import complaint_figures, entity_figures, entity_set, intent_figures
from benchmarks.orderbook import OrderBook


def turn(text, *actions):
    events = [{"event": "user", "text": text, "timestamp": 0}]
    events += [{"event": "action", "name": name, "timestamp": 0} for name in actions]
    return events + [{"event": "action", "name": "action_listen", "timestamp": 0}]


START = [{"event": "action", "name": "action_session_start", "timestamp": 0},
         {"event": "session_started", "timestamp": 0},
         {"event": "action", "name": "action_listen", "timestamp": 0}]


def test_whole_turns_in_the_order_sent_pass():
    events = START + turn("hi", "utter_greet") + turn("my parcel is late", "action_acknowledge_complaint")
    assert trackers.problems(events, ["hi", "my parcel is late"]) == []


def test_interleaved_lost_doubled_or_unfinished_turns_are_caught():
    interleaved = START + [{"event": "user", "text": "a", "timestamp": 0},
                           {"event": "user", "text": "b", "timestamp": 0},
                           {"event": "action", "name": "utter_x", "timestamp": 0},
                           {"event": "action", "name": "action_listen", "timestamp": 0}]
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
    mixed = START + turn("first", "u") + [{"event": "user", "text": "one", "timestamp": 0},
                                          {"event": "user", "text": "two", "timestamp": 0},
                                          {"event": "action", "name": "u", "timestamp": 0},
                                          {"event": "action", "name": "action_listen", "timestamp": 0}]
    assert burst_problems(mixed, sent)
    one_lost = START + turn("first", "u") + turn("one", "u")
    assert burst_problems(one_lost, sent)


def test_entities_match_on_type_and_normalised_value():
    gold = [entity_set([{"entity": "phone", "value": "0912345678"},
                        {"entity": "order_id", "value": "5520981"}])]
    predicted = [entity_set([{"entity": "phone", "value": "0912 345 678"},
                             {"entity": "order_id", "value": "552098"},  # wrong number
                             {"entity": "remedy", "value": "refund"}])]  # not measured
    figures = entity_figures(gold, predicted)
    assert figures["phone"] == {"gold": 1, "predicted": 1, "precision": 1.0, "recall": 1.0}
    assert figures["order_id"]["precision"] == 0.0 and figures["order_id"]["recall"] == 0.0
    assert entity_set([{"entity": "email", "value": "Lan.Nguyen@Example.com."}]) == {
        ("email", "lan.nguyen@example.com")}


def test_intent_and_complaint_figures():
    intents = intent_figures(["greet", "greet", "deny"], ["greet", "deny", "deny"])
    assert intents["accuracy"] == round(2 / 3, 3) and intents["macro_f1"] == round(2 / 3, 3)
    complaint = complaint_figures([True, True, False], ["complain_wait", "greet", "request_human"])
    assert complaint == {"rows": 3, "precision": 0.5, "recall": 0.5, "f1": 0.5}


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
