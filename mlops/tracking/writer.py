"""The background metric writer: buffered points, written in batches off the caller's thread.

Durability contract:

* ``log_metric`` returns once the point is in memory; a background thread writes buffered points to
  the store every ``flush_interval_s`` seconds (default 0.5 s), or sooner when ``batch_size`` points
  are waiting.
* :meth:`MetricWriter.flush` returns only when every point logged before it is durable in the store;
  ``end_run`` and interpreter exit flush too. A crash (even SIGKILL) loses at most the points logged
  since the last completed write, never corrupts the store, and never half-writes a batch (each store
  write is one transaction).
* Memory is bounded: when ``max_buffered`` points are waiting, ``log_metric`` blocks until the writer
  catches up (backpressure), so a fast loop cannot grow memory without limit.
* A failed write is never dropped silently: its error is raised by the next ``log_metric``,
  ``flush`` or ``end_run`` call (once), and the points of that batch are reported as lost in the
  message.

The writer also refreshes the heartbeat of runs it is told about, so that another process can tell a
run whose process died (see ``Client.mark_dead_runs``).
"""

from __future__ import annotations

import atexit
import logging
import operator
import threading
import time
import weakref
from collections.abc import Callable
from typing import TypeVar

from mlops.entities import Metric, now_ms
from mlops.errors import MlopsError
from mlops.gc_pause import gc_paused
from mlops.store import TrackingStore

__all__ = ["MetricWriter", "WriterError"]

log = logging.getLogger(__name__)
T = TypeVar("T")

_WRITE_ON_CALLER = 1_000  # flush() writes a remainder this small itself

# (run_id, key, value, timestamp_ms, step): plain tuples keep the caller's cost to one append
Point = tuple[str, str, float, int, int]


class WriterError(MlopsError):
    """A background write failed; raised on the next call into the client."""


class MetricWriter:
    """Buffers metric points and writes them in batches from one background thread.

    Example:
        >>> from mlops.store import open_tracking_store
        >>> store = open_tracking_store("sqlite://")
        >>> run = store.create_run(store.create_experiment("w", "memory://w"), run_name="r", start_time=0)
        >>> writer = MetricWriter(store)
        >>> writer.add(run.run_id, "loss", 0.5, 1, 0)
        >>> writer.flush()
        >>> store.get_run(run.run_id).metrics["loss"]
        0.5
        >>> writer.close()
    """

    def __init__(
        self,
        store: TrackingStore,
        *,
        flush_interval_s: float = 0.5,
        batch_size: int = 50_000,
        max_buffered: int = 1_000_000,
        heartbeat_interval_s: float = 10.0,
    ) -> None:
        self._store = store
        self._flush_interval_s = flush_interval_s
        self._batch_size = batch_size
        self._max_buffered = max_buffered
        self._heartbeat_interval_s = heartbeat_interval_s
        self._buffer: list[Point] = []
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)  # the writer waits on it for work
        self._drained = threading.Condition(self._lock)  # callers wait on it for progress
        self._submitted = 0  # points handed to add(); guarded by _lock
        self._written = 0  # points whose write finished (successfully or not)
        self._error: BaseException | None = None
        self._heartbeat_runs: set[str] = set()
        self._closed = False
        self._flush_requested = False
        self._thread: threading.Thread | None = None
        self._last_heartbeat = time.monotonic()  # runs start with a fresh heartbeat
        _live_writers.add(self)

    # ------------------------------------------------------------------ caller side
    def add(self, run_id: str, key: str, value: float, timestamp: int, step: int) -> None:
        """Buffer one point (already validated). Blocks only when the buffer is full."""
        with self._lock:
            if self._error is not None:
                self._raise_error()
            if self._thread is None:
                self._start()
            self._buffer.append((run_id, key, value, timestamp, step))
            self._submitted += 1
            pending = len(self._buffer)
            if pending >= self._batch_size:
                self._wake.notify()
                while len(self._buffer) >= self._max_buffered and self._error is None:
                    self._drained.wait(0.1)

    def add_many(self, points: list[Point]) -> None:
        """Buffer many points at once (already validated)."""
        with self._lock:
            if self._error is not None:
                self._raise_error()
            if self._thread is None:
                self._start()
            self._buffer.extend(points)
            self._submitted += len(points)
            if len(self._buffer) >= self._batch_size:
                self._wake.notify()
            while len(self._buffer) >= self._max_buffered and self._error is None:
                self._drained.wait(0.1)

    def flush(self, timeout_s: float | None = None) -> None:
        """Return when every point added so far is durable.

        Raises:
            WriterError: a background write failed (the message says how many points were lost).
            TimeoutError: not done within ``timeout_s``.
        """
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        with self._lock:
            target = self._submitted
            # A small remainder is written right here: handing it to the writer thread and waiting
            # for it to wake costs more than the write itself.
            own: list[Point] = []
            if timeout_s is None and 0 < len(self._buffer) <= _WRITE_ON_CALLER:
                own, self._buffer = self._buffer, []
            else:
                self._flush_requested = True
                self._wake.notify()
        if own:
            self._write(own)
        with self._lock:
            while self._written < target and self._error is None:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    raise TimeoutError(f"metric writer did not flush {target - self._written} points in time")
                self._drained.wait(remaining if remaining is not None else 0.5)
            if self._error is not None:
                self._raise_error()

    def finish_run(self, run_id: str, end: Callable[[list[Metric]], T]) -> T:
        """End a run through ``end`` (one store call that writes the points it is given and ends the
        run), giving it the run's last buffered points instead of writing them separately.

        Writes already in flight finish first, so points reach the store in the order they were
        logged. When the buffer also holds other runs' points, everything is flushed as usual and
        ``end`` gets no points. The run is ended even when writing points fails: ``end`` is then
        called again without them, and the error is raised afterwards.

        Raises:
            WriterError: an earlier background write failed, or the last points were not written
                (the message says how many); the run has been ended all the same.
        """
        with self._lock:
            while self._written + len(self._buffer) < self._submitted and self._error is None:
                self._drained.wait(0.5)  # a batch is being written by the background thread
            earlier, self._error = self._error, None
            mine = bool(self._buffer) and all(map(run_id.__eq__, map(operator.itemgetter(0), self._buffer)))
            points, self._buffer = (self._buffer, []) if mine else ([], self._buffer)
        try:
            result = self._end_with(run_id, points, end) if mine else self._end_after_flush(end)
        finally:
            if points:
                with self._lock:
                    self._written += len(points)
                    self._drained.notify_all()
        if earlier is not None:
            raise WriterError(f"writing buffered metrics failed: {earlier}") from earlier
        return result

    @staticmethod
    def _end_with(run_id: str, points: list[Point], end: Callable[[list[Metric]], T]) -> T:
        try:
            return end(_metrics_by_run(points)[run_id])
        except MlopsError as e:
            end([])  # nothing of the failed call was written: end the run without the points
            raise WriterError(f"{len(points)} metric points were not written: {e}") from e

    def _end_after_flush(self, end: Callable[[list[Metric]], T]) -> T:
        try:
            self.flush()
        except WriterError:
            end([])
            raise
        return end([])

    def check(self) -> None:
        """Raise the error of a failed background write, if any (once)."""
        if self._error is not None:
            with self._lock:
                if self._error is not None:
                    self._raise_error()

    def watch_run(self, run_id: str) -> None:
        """Refresh this run's heartbeat until :meth:`unwatch_run`."""
        with self._lock:
            self._heartbeat_runs.add(run_id)
            if self._thread is None:
                self._start()

    def unwatch_run(self, run_id: str) -> None:
        """Stop refreshing this run's heartbeat."""
        with self._lock:
            self._heartbeat_runs.discard(run_id)

    def close(self) -> None:
        """Flush and stop the background thread. Errors of the final flush are logged, not raised."""
        try:
            self.flush()
        except MlopsError as e:
            log.error("mlops: metric points could not be written at shutdown: %s", e)
        with self._lock:
            self._closed = True
            self._wake.notify()
            thread = self._thread
        if thread is not None:
            thread.join(timeout=10)

    @property
    def pending(self) -> int:
        """Points added but not yet written."""
        with self._lock:
            return self._submitted - self._written

    # ------------------------------------------------------------------ writer side
    def _start(self) -> None:  # called with _lock held
        self._thread = threading.Thread(target=self._loop, name="mlops-metric-writer", daemon=True)
        self._thread.start()

    def _raise_error(self) -> None:  # called with _lock held
        error, self._error = self._error, None
        raise WriterError(f"writing buffered metrics failed: {error}") from error

    def _loop(self) -> None:
        while True:
            with self._lock:
                deadline = time.monotonic() + self._flush_interval_s
                while not (self._closed or self._flush_requested or len(self._buffer) >= self._batch_size):
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    self._wake.wait(remaining)
                batch, self._buffer = self._buffer, []
                self._flush_requested = False
                closed = self._closed
                self._drained.notify_all()  # callers blocked on a full buffer may go on
            if batch:
                self._write(batch)
            self._maybe_heartbeat()
            if closed:
                with self._lock:
                    if not self._buffer:
                        return

    def _write(self, batch: list[Point]) -> None:
        failure: BaseException | None = None
        lost = 0
        with gc_paused():  # a batch is up to batch_size small tuples, none of them in a cycle
            for run_id, metrics in _metrics_by_run(batch).items():
                try:
                    self._store.log_batch(run_id, metrics=metrics)
                except BaseException as e:  # recorded and re-raised on the caller's next call
                    failure = e
                    lost += len(metrics)
        with self._lock:
            self._written += len(batch)
            if failure is not None and self._error is None:
                self._error = WriterError(f"{lost} metric points were not written: {failure}")
                self._error.__cause__ = failure
            self._drained.notify_all()

    def _maybe_heartbeat(self) -> None:
        now = time.monotonic()
        if now - self._last_heartbeat < self._heartbeat_interval_s:
            return
        self._last_heartbeat = now
        with self._lock:
            runs = list(self._heartbeat_runs)
        stamp = now_ms()
        for run_id in runs:
            try:
                self._store.update_run(run_id, heartbeat_time=stamp)
            except MlopsError as e:  # a missed heartbeat is not worth failing a training loop
                log.debug("heartbeat for run %s failed: %s", run_id, e)


def _metrics_by_run(batch: list[Point]) -> dict[str, list[Metric]]:
    """The batch's points as :class:`Metric` s grouped by run, in the order they were logged."""
    as_metric = Metric._make
    fields = operator.itemgetter(1, 2, 3, 4)  # (key, value, timestamp, step)
    first = batch[0][0]
    if all(map(first.__eq__, map(operator.itemgetter(0), batch))):  # the usual case: one run
        return {first: list(map(as_metric, map(fields, batch)))}
    by_run: dict[str, list[Metric]] = {}
    for point in batch:
        found = by_run.get(point[0])
        if found is None:
            found = by_run[point[0]] = []
        found.append(as_metric(fields(point)))
    return by_run


_live_writers: weakref.WeakSet[MetricWriter] = weakref.WeakSet()


@atexit.register
def _close_all_writers() -> None:
    """Interpreter exit makes every buffered point durable."""
    for writer in list(_live_writers):
        writer.close()
