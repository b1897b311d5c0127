"""Vietnamese word features: folding, the chat-abbreviation map, and the tokenizer plus
Rasa's word count vectors giving the same features to the marked and unmarked forms."""

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu.components import VietnameseSegmentingTokenizer
from nlu.vietnamese import CHAT_ABBREVIATIONS, vietnamese_lemma, vietnamese_lemmas


@pytest.mark.parametrize(
    "word,expected",
    [
        ("Nhân viên", ["nhan", "vien"]),  # a pyvi compound, split into syllables
        ("nhân_viên", ["nhan", "vien"]),
        ("NV", ["nhan", "vien"]),
        ("ko", ["khong"]),
        ("k", ["khong"]),
        ("hok", ["khong"]),
        ("không", ["khong"]),
        ("đc", ["duoc"]),
        ("dc", ["duoc"]),
        ("tk", ["tai", "khoan"]),
        ("sđt", ["so", "dien", "thoai"]),
        ("r", ["roi"]),
        ("j", ["gi"]),
        ("vs", ["voi"]),
        ("hỏng", ["hong"]),  # "broken" must not become "không"
        ("Đơn", ["don"]),
    ],
)
def test_lemmas_fold_and_spell_out_abbreviations(word, expected):
    assert vietnamese_lemmas(word) == expected


def test_abbreviations_map_to_folded_words():
    for short, full in CHAT_ABBREVIATIONS.items():
        assert short == short.lower() and full.isascii() and full == full.lower(), short
    assert vietnamese_lemma("!!") == "!!"


def _tokenizer(**config):
    return VietnameseSegmentingTokenizer({**VietnameseSegmentingTokenizer.get_default_config(), **config})


def _lemmas(tokenizer, text):
    return [t.lemma for t in tokenizer.tokenize(Message({TEXT: text}), TEXT)]


def test_marked_unmarked_and_chat_forms_give_the_same_tokens():
    tokenizer = _tokenizer(syllable_lemmas=True)
    marked = _lemmas(tokenizer, "Nhân viên không giúp gì được cả!")
    assert marked == ["nhan", "vien", "khong", "giup", "gi", "duoc", "ca"]
    assert _lemmas(tokenizer, "nhan vien khong giup gi duoc ca") == marked
    assert _lemmas(tokenizer, "nv ko giup j dc ca") == marked


def test_english_is_not_rewritten():
    tokenizer = _tokenizer(syllable_lemmas=True)
    assert _lemmas(tokenizer, "ok k thanks, my parcel is late r u there") == [
        "ok",
        "k",
        "thanks",
        "my",
        "parcel",
        "is",
        "late",
        "r",
        "u",
        "there",
    ]


def test_without_the_option_the_old_compound_lemmas_stay():
    assert _lemmas(_tokenizer(), "Nhân viên không giúp") == ["nhan_vien", "khong", "giup"]


def _features(tmp_path, texts):
    """Word (1-2 gram) count-vector features, trained on a few messages, for `texts`."""
    tokenizer = _tokenizer(syllable_lemmas=True)
    training = TrainingData(
        [
            Message({TEXT: t, "intent": "complain_staff"})
            for t in ("Nhân viên không giúp gì", "tổng đài viên không trả lời", "nv thái độ tệ")
        ]
    )
    tokenizer.process_training_data(training)
    featurizer = CountVectorsFeaturizer.create(
        {**CountVectorsFeaturizer.get_default_config(), "min_ngram": 1, "max_ngram": 2},
        LocalModelStorage(tmp_path),
        Resource("cvf"),
        ExecutionContext(None, "cvf"),
    )
    featurizer.train(training)
    messages = [Message({TEXT: t}) for t in texts]
    tokenizer.process(messages)
    featurizer.process(messages)
    return [[f.features.toarray() for f in m.get_sparse_features(TEXT)] for m in messages]


def test_count_vectors_are_identical_for_marked_and_unmarked_forms(tmp_path):
    marked, unmarked, chat, other = _features(
        tmp_path,
        ["Nhân viên không giúp gì", "nhan vien khong giup gi", "nv ko giup j", "tổng đài viên trả lời"],
    )
    for got in (unmarked, chat):
        assert all(np.array_equal(a, b) for a, b in zip(marked, got, strict=True))
    assert not np.array_equal(marked[1], other[1])  # the sentence features tell texts apart
    assert marked[1].sum() > 4  # unigrams and bigrams ("nhan vien") are both counted
