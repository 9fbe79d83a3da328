"""Embedding on a Ray cluster, for corpora too large for one machine to embed in reasonable time.

`RayEmbedder` is just another `Embedder`: the builder hands it texts and gets back the same unit-length
float32 rows the local model gives, so chunking, the index format and incremental re-use are untouched.
The work runs in Ray Data `map_batches` actors, each of which loads the model once through
`kb.embed.load_embedder`. Ray is an optional extra (`pip install 'kb[ray]'`); nothing here imports it
until it is needed, and kb never requires it otherwise.

Every worker node needs kb, the model and its extras installed, exactly as a local `kb index` would.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import re
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from kb.config import BACKENDS
from kb.embed import ProgressCallback, Tokenizer, load_tokenizer, model_dimension
from kb.errors import KBError, ModelError

RAY_HINT = "Install the extra: pip install 'kb[ray]'"
CPUS_PER_WORKER = 1  # one model per core: small encoders scale better across processes than threads
LOCAL_OBJECT_STORE_BYTES = 1 << 30  # a local instance streams batches; Ray's default would take 30% of RAM
MAX_BLOCKS = 4096  # more blocks balance load and report progress finely; each costs scheduling overhead


def _require_ray() -> Any:
    """The `ray` module with Ray Data, or a ModelError a user can act on."""
    try:
        import ray
        import ray.data  # noqa: F401  (the extra is ray[data]; plain ray lacks pandas/pyarrow)
    except ImportError:
        raise ModelError("Ray is not installed.", RAY_HINT) from None
    return ray


def connect(address: str | None = None) -> bool:
    """Join the cluster at `address` or RAY_ADDRESS, else start a small local Ray; True if this call started it.

    A Ray session that is already running in this process (a test fixture, a notebook) is used as is.
    """
    ray = _require_ray()
    if ray.is_initialized():
        return False
    address = address or os.environ.get("RAY_ADDRESS") or None
    quiet = {"ignore_reinit_error": True, "logging_level": logging.ERROR, "log_to_driver": False}
    if address:
        _check_reachable(address)
    try:
        if address:
            ray.init(address=address, **quiet)
        else:
            ray.init(address="local", num_cpus=os.cpu_count() or 1, object_store_memory=LOCAL_OBJECT_STORE_BYTES,
                     include_dashboard=False, **quiet)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        where = f"the Ray cluster at {address}" if address else "a local Ray instance"
        raise ModelError(
            f"Cannot start or reach {where}: {_first_line(exc)}",
            "Check the address (--ray-address or RAY_ADDRESS), or unset it to run Ray on this machine.",
        ) from None
    return True


def _check_reachable(address: str, timeout: float = 5.0) -> None:
    """Fail in seconds on a wrong host:port: `ray.init` retries an unreachable address for many minutes."""
    import socket

    match = re.fullmatch(r"(?:ray://)?\[?([^\[\]]+?)\]?:(\d+)", address.strip())
    if not match:  # "auto", "local" and other forms Ray resolves itself
        return
    host, port = match.group(1), int(match.group(2))
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError as exc:
        raise ModelError(
            f"Cannot reach the Ray cluster at {address}: {exc.strerror or exc}.",
            "Check the address (--ray-address or RAY_ADDRESS) and that the head node is running (ray status).",
        ) from None


class _EmbedBatches:
    """The Ray Data worker: loads the model once per actor, then embeds every batch it is given."""

    def __init__(self, name: str, backend: str, model_batch_size: int) -> None:
        from kb.embed import load_embedder

        # An actor owns only the cores Ray assigned it: several actors on one node must not each
        # start a thread pool the size of the machine.
        self._embedder = load_embedder(name, backend, threads=_assigned_cpus())
        self._batch_size = model_batch_size

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        vectors = self._embedder.embed([str(text) for text in batch["text"]], batch_size=self._batch_size)
        return {"id": batch["id"], "vector": np.asarray(vectors, dtype=np.float32)}


def _assigned_cpus() -> int:
    try:
        import ray

        cpus = ray.get_runtime_context().get_assigned_resources().get("CPU")
    except Exception:  # outside an actor or an older Ray: fall back to the whole machine
        cpus = None
    return max(1, int(cpus)) if cpus else (os.cpu_count() or 1)


class RayEmbedder:
    """Implements the Embedder protocol (name, dimension, tokenizer, embed(...)) by running the
    same model in Ray Data `map_batches` workers, so the index it feeds is identical in format.

    `batch_size` is the rows per Ray batch (the unit of work and of progress); the `batch_size` given
    to `embed` is the model's own batch size inside a worker. `concurrency` is the number of model
    actors; None means one per CPU in the cluster, but never more than there are batches.
    """

    def __init__(self, name: str, backend: str = "auto", *, address: str | None = None,
                 batch_size: int = 64, concurrency: int | None = None) -> None:
        _require_ray()
        if backend not in BACKENDS:
            raise ModelError(f"Unknown backend {backend!r}.", f"Choose one of: {', '.join(BACKENDS)}.")
        if batch_size < 1 or (concurrency is not None and concurrency < 1):
            raise ModelError(f"Ray batch size and concurrency must be at least 1 (got {batch_size}, {concurrency}).")
        self.name = name
        self.backend = backend
        self.address = address
        self.batch_size = batch_size
        self.concurrency = concurrency
        # Both come from the model's files on this machine, so a wrong name fails here, before any
        # cluster work, and the builder can chunk without starting Ray.
        self.tokenizer: Tokenizer = load_tokenizer(name)
        self._dimension = model_dimension(name)
        self._started_ray = False

    @property
    def dimension(self) -> int:
        """From the model's files; a model that does not say is asked on the cluster, once."""
        if self._dimension is None:
            self._dimension = int(self._run(["dimension probe"], 32, None).shape[1])
        return self._dimension

    def embed(self, texts: Sequence[str], *, batch_size: int = 32, progress: ProgressCallback | None = None) -> np.ndarray:
        """Unit-length float32 vectors, one row per text, in the order of `texts`."""
        if not len(texts):
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self._run(texts, batch_size, progress)
        if self._dimension is None:
            self._dimension = int(vectors.shape[1])
        elif vectors.shape[1] != self._dimension:
            raise ModelError(f"The Ray workers' model {self.name!r} gives {vectors.shape[1]} dimensions; "
                             f"this machine's gives {self.dimension}.",
                             "Install the same model on every node of the cluster.")
        return vectors

    def close(self) -> None:
        """Shut down the local Ray instance if this embedder started it (a joined cluster is left alone)."""
        if self._started_ray:
            import ray

            ray.shutdown()
            self._started_ray = False

    # -- the Ray side --------------------------------------------------------------------------

    def _run(self, texts: Sequence[str], model_batch_size: int, progress: ProgressCallback | None) -> np.ndarray:
        ray = _require_ray()
        self._started_ray = connect(self.address) or self._started_ray
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # similar lengths pad little
        workers = self.concurrency or self._default_concurrency(ray, len(texts))
        vectors: np.ndarray | None = None
        seen = np.zeros(len(texts), dtype=bool)
        with _quiet_ray_data():
            dataset = ray.data.from_arrow(_blocks(texts, order, self.batch_size)).map_batches(
                _EmbedBatches,
                fn_constructor_kwargs={"name": self.name, "backend": self.backend,
                                       "model_batch_size": model_batch_size},
                batch_size=self.batch_size,
                batch_format="numpy",
                compute=ray.data.ActorPoolStrategy(size=workers),
                num_cpus=CPUS_PER_WORKER,
            )
            try:
                for batch in dataset.iter_batches(batch_format="numpy", batch_size=None):
                    ids, rows = batch["id"], np.asarray(batch["vector"], dtype=np.float32)
                    if vectors is None:
                        vectors = np.empty((len(texts), rows.shape[1]), dtype=np.float32)
                    vectors[ids] = rows
                    seen[ids] = True
                    if progress:
                        progress(len(ids))
            except ray.exceptions.RayError as exc:
                raise _worker_error(self.name, exc) from None
        if vectors is None or not seen.all():
            raise ModelError(f"The Ray workers returned {int(seen.sum())} of {len(texts)} vectors.",
                             "Run `kb index --ray` again; if it persists, check the cluster's logs.")
        return vectors

    def _default_concurrency(self, ray: Any, count: int) -> int:
        cpus = int(ray.cluster_resources().get("CPU", 1))
        return max(1, min(cpus // CPUS_PER_WORKER, math.ceil(count / self.batch_size)))


def _blocks(texts: Sequence[str], order: list[int], batch_size: int) -> list[Any]:
    """Arrow tables of (id, text) in `order`: separate tables, not slices, so each ships only its rows."""
    import pyarrow as pa

    count = math.ceil(len(order) / batch_size)
    rows = batch_size * math.ceil(count / MAX_BLOCKS)  # whole Ray batches per block
    ids = np.asarray(order, dtype=np.int64)
    return [pa.table({"id": ids[start:start + rows],
                      "text": pa.array([texts[i] for i in order[start:start + rows]], type=pa.large_string())})
            for start in range(0, len(order), rows)]


@contextlib.contextmanager
def _quiet_ray_data() -> Iterator[None]:
    """No progress bars or execution banners from Ray Data: kb reports progress itself."""
    import ray.data

    context = ray.data.DataContext.get_current()
    saved = (context.enable_progress_bars, context.print_on_execution_start)
    logger = logging.getLogger("ray.data")
    level = logger.level
    context.enable_progress_bars, context.print_on_execution_start = False, False
    logger.setLevel(logging.CRITICAL)  # failures still surface, as exceptions kb turns into ModelError
    try:
        yield
    finally:
        context.enable_progress_bars, context.print_on_execution_start = saved
        logger.setLevel(level)


def _worker_error(name: str, exc: Exception) -> KBError:
    """A ModelError naming what went wrong on the worker, not Ray's wrapper around it."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    cause = next((line for line in reversed(lines) if ":" in line and not line.startswith(("File ", "^"))),
                 lines[-1] if lines else type(exc).__name__)
    cause = re.sub(r"^[\w.]*(?:Error|Exception): ", "", cause)  # "kb.errors.ModelError: ..." reads as "..."
    return ModelError(
        f"Embedding with {name!r} on the Ray workers failed: {cause}",
        "Every Ray node needs kb and the model installed; the worker logs are under /tmp/ray/session_latest/logs.",
    )


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def ray_embedder_factory(backend: str = "auto", address: str | None = None) -> Callable[[str], RayEmbedder]:
    """An `embedder_factory` for `kb.build.build_index`. Checks for Ray now, so `kb index --ray`
    fails before reading the corpus rather than after."""
    _require_ray()

    def factory(name: str) -> RayEmbedder:
        return RayEmbedder(name, backend, address=address)

    return factory
