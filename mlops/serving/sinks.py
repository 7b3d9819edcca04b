"""Prediction logging for monitoring: buffered, written in batches, off the request path.

A :class:`PredictionLogger` takes one entry per scored row (inputs, outputs, model version, latency,
request id, time) into an in-memory buffer; a background thread writes the buffer to a sink every
``flush_interval_s`` seconds or ``batch_rows`` rows. A request never waits for the sink and never
sees its errors: a failing write is counted (:attr:`PredictionLogger.errors`) and logged with the
``logging`` module; a buffer over ``max_buffer_rows`` drops the oldest rows (counted in
:attr:`PredictionLogger.dropped`).

Sinks write one Parquet part file per batch, so every batch is durable on its own and nothing is
appended in place (object stores cannot append):

* :class:`ParquetSink`: ``<uri>/part-<start>-<seq>.parquet`` on any fsspec location (read the whole
  log back with ``pandas.read_parquet(uri)``);
* :class:`RunTableSink`: the same parts as artifacts of a tracking run (``predictions/`` by default).

Columns: ``request_id``, ``timestamp_ms``, ``model_version``, ``variant``, ``latency_ms``,
``input.<column>`` for each input, ``prediction`` and ``proba`` (a list), as the predictor produced.

Example:
    >>> import tempfile, pandas as pd
    >>> root = tempfile.mkdtemp()
    >>> logger = PredictionLogger(ParquetSink(root), flush_interval_s=60)
    >>> logger.log({"request_id": "r1", "prediction": 1, "input.x": 2.0})
    >>> logger.close()
    >>> pd.read_parquet(root)["prediction"].tolist()
    [1]
"""

from __future__ import annotations

import abc
import atexit
import collections
import itertools
import logging
import threading
import time
import uuid
from collections.abc import Mapping
from typing import Any

from mlops.errors import InvalidInputError
from mlops.serving._files import Location, atomic_output

__all__ = ["ParquetSink", "PredictionLogger", "PredictionSink", "RunTableSink", "open_sink"]

_log = logging.getLogger("mlops.serving")


class PredictionSink(abc.ABC):
    """Where logged predictions go: :meth:`write` gets one batch as a DataFrame.

    Called from one background thread at a time; may raise (the logger counts the error).
    """

    @abc.abstractmethod
    def write(self, batch: Any) -> None:
        """Store one batch (a non-empty DataFrame) durably."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources (nothing by default)."""


class _Parts:
    def __init__(self) -> None:
        self._prefix = f"part-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
        self._seq = itertools.count()

    def next(self) -> str:
        return f"{self._prefix}-{next(self._seq):06d}.parquet"


class ParquetSink(PredictionSink):
    """Parquet part files under a folder (local path, ``s3://``, ``gs://``, ...), written atomically.

    Example:
        >>> import tempfile, pandas as pd
        >>> sink = ParquetSink(tempfile.mkdtemp())
        >>> sink.write(pd.DataFrame({"prediction": [0, 1]}))
    """

    def __init__(self, uri: str, *, storage_options: Mapping[str, Any] | None = None) -> None:
        self.uri = uri.rstrip("/")
        self.storage_options = dict(storage_options or {})
        self._parts = _Parts()

    def __repr__(self) -> str:
        return f"ParquetSink({self.uri!r})"

    def write(self, batch: Any) -> None:
        """Write ``batch`` as the next part file."""
        target = Location.open(f"{self.uri}/{self._parts.next()}", self.storage_options)
        with atomic_output(target) as f:
            batch.to_parquet(f, index=False)


class RunTableSink(PredictionSink):
    """Parquet part files as artifacts of a run: ``<artifact_dir>/part-....parquet``.

    Args:
        run_id: the run that receives the log.
        artifact_dir: the artifact folder.
        client: the tracking client (default: the fluent API's).
    """

    def __init__(self, run_id: str, *, artifact_dir: str = "predictions", client: Any = None) -> None:
        if client is None:
            from mlops.tracking.fluent import get_client

            client = get_client()
        self.client = client
        self.run_id = run_id
        self.artifact_dir = artifact_dir.strip("/")
        self._parts = _Parts()

    def __repr__(self) -> str:
        return f"RunTableSink({self.run_id!r}, artifact_dir={self.artifact_dir!r})"

    def write(self, batch: Any) -> None:
        """Log ``batch`` as the next part artifact."""
        self.client.log_table(self.run_id, batch, f"{self.artifact_dir}/{self._parts.next()}")


def open_sink(log_to: PredictionSink | str, *, client: Any = None) -> PredictionSink:
    """A sink from ``log_to``: a sink, ``runs:/<run_id>/<folder>`` or a folder path/URL.

    Raises:
        InvalidInputError: anything else.

    Example:
        >>> open_sink("s3://bucket/predictions")
        ParquetSink('s3://bucket/predictions')
    """
    if isinstance(log_to, PredictionSink):
        return log_to
    if not isinstance(log_to, str) or not log_to.strip():
        raise InvalidInputError(
            f"log_to must be a PredictionSink, 'runs:/<run_id>/<folder>' or a folder path/URL, not {log_to!r}"
        )
    if log_to.startswith("runs:"):
        from mlops.registry.uris import parse_runs_uri

        run_id, folder = parse_runs_uri(log_to)
        return RunTableSink(run_id, artifact_dir=folder or "predictions", client=client)
    return ParquetSink(log_to)


class PredictionLogger:
    """A buffer in front of a sink, flushed by a background thread.

    Args:
        sink: where batches go.
        batch_rows: write when this many rows wait.
        flush_interval_s: write at least this often when rows wait.
        max_buffer_rows: drop the oldest rows beyond this (the sink is too slow or down).

    Thread-safe: many request threads may call :meth:`log` at once.
    """

    def __init__(
        self,
        sink: PredictionSink,
        *,
        batch_rows: int = 1000,
        flush_interval_s: float = 1.0,
        max_buffer_rows: int = 100_000,
    ) -> None:
        if batch_rows < 1 or max_buffer_rows < batch_rows or flush_interval_s <= 0:
            raise InvalidInputError(
                "need batch_rows >= 1, max_buffer_rows >= batch_rows and flush_interval_s > 0; got "
                f"{batch_rows}, {max_buffer_rows}, {flush_interval_s}"
            )
        self.sink = sink
        self.batch_rows = batch_rows
        self.flush_interval_s = flush_interval_s
        self._buffer: collections.deque[Mapping[str, Any]] = collections.deque(maxlen=max_buffer_rows)
        self._lock = threading.Lock()  # one writer at a time
        self._wake = threading.Event()
        self._stop = threading.Event()
        self.written = 0
        self.dropped = 0
        self.errors = 0
        self.last_error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="mlops-prediction-log", daemon=True)
        self._thread.start()
        atexit.register(self.close)

    def __repr__(self) -> str:
        return f"PredictionLogger({self.sink!r}, written={self.written}, dropped={self.dropped})"

    def log(self, entry: Mapping[str, Any]) -> None:
        """Queue one row (never blocks on the sink, never raises)."""
        buffer = self._buffer
        if len(buffer) == buffer.maxlen:
            self.dropped += 1
        buffer.append(entry)
        if len(buffer) >= self.batch_rows:
            self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.flush_interval_s)
            self._wake.clear()
            self.flush()

    def flush(self) -> None:
        """Write everything buffered now (errors are counted, not raised)."""
        import pandas as pd

        with self._lock:
            rows = []
            buffer = self._buffer
            while buffer:
                try:
                    rows.append(buffer.popleft())
                except IndexError:
                    break
            if not rows:
                return
            try:
                self.sink.write(pd.DataFrame.from_records(rows))
                self.written += len(rows)
            except Exception as e:
                self.errors += 1
                self.last_error = e
                _log.warning("prediction log: %d rows not written to %r: %s", len(rows), self.sink, e)

    def close(self) -> None:
        """Stop the thread and write what is left (idempotent)."""
        if self._stop.is_set():
            return
        self._stop.set()
        self._wake.set()
        self._thread.join()
        self.flush()
        self.sink.close()
        atexit.unregister(self.close)
