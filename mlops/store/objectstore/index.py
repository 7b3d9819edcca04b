"""An append-only log of JSON records on an object store, folded into a state that is cached in memory.

A :class:`Log` is a numbered chain of immutable records (``<prefix>/000000000000.json``, ``...1.json``,
...). Appending record ``n`` is a create-only write, so of two writers that both read the log up to
``n - 1`` exactly one appends; the other re-reads the new record, re-validates its change against the
new state and tries ``n + 1``. Every record is therefore validated against exactly the state that
precedes it, which makes each append a serializable transaction over the whole log (a version number,
a write-once param, a unique name and an alias move are all decided this way, with no
read-modify-write of a shared object).

Reading folds the records into a state with an ``apply`` function. The state is cached per process:
a reader only fetches records it has not seen, probing ``n + 1, n + 2, ...`` (in doubling windows,
concurrently on S3/GCS) until one is missing. Every few records a writer also stores the folded state
as ``<prefix>/snapshot.json`` (compare-and-swap, so it only moves forward); a new process starts from
it. A snapshot is only a shortcut: the records after it are always read, so a stale or missing
snapshot never hides a change.

Example:
    >>> from mlops.store.objectstore._fs import ObjectFS
    >>> def apply(state, record, n):
    ...     state["total"] = state.get("total", 0) + record["add"]
    ...     return state["total"], True
    >>> log = Log(ObjectFS("memory://doc-log"), "counter", apply)
    >>> log.commit({"add": 2}), log.commit({"add": 3}), log.read(lambda s: s["total"])
    (2, 5, 5)
"""

from __future__ import annotations

import contextlib
import json
import random
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from mlops.errors import ConflictError, IntegrityError, MlopsError
from mlops.store.objectstore._fs import ObjectFS
from mlops.store.objectstore.layout import record_key, snapshot_key

__all__ = ["Apply", "Log", "decode", "encode", "refresh_many"]

T = TypeVar("T")
State = dict[str, Any]
#: ``apply(state, record, n) -> (result, changed)``: validate the record against ``state`` (raising an
#: :mod:`mlops.errors` exception before touching it), then fold it in. ``changed=False``: nothing to store.
Apply = Callable[[State, dict[str, Any], int], tuple[Any, bool]]

_MAX_WINDOW = 64
_COMMIT_TIMEOUT_S = 120.0


def encode(value: Any) -> bytes:
    """Compact JSON; NaN and ±inf are written as ``NaN``/``Infinity`` and read back exactly.

    Example:
        >>> encode({"v": float("nan")})
        b'{"v":NaN}'
    """
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def decode(data: bytes, what: str) -> Any:
    """Parse a stored object.

    Raises:
        IntegrityError: the bytes are not a JSON document (a corrupt object).
    """
    try:
        return json.loads(data)
    except ValueError as e:
        raise IntegrityError(f"metadata object {what} is corrupt: {e}") from e


class Log:
    """A create-only chain of records under ``prefix`` and its folded state.

    Args:
        fs: where the records live.
        prefix: the folder of the records.
        apply: folds one record into the state (see :data:`Apply`).
        snapshot_every: store the folded state every this many records.
        optimistic: append on top of the cached state without reading first (for logs with one usual
            writer, such as a run's). The create-only write still fails if the cache is stale, and
            then the log is re-read; a refusal or a no-op decided on a cached state is re-checked on
            fresh state before it is returned.

    Thread-safe: one lock per log guards the cached state.
    """

    def __init__(
        self, fs: ObjectFS, prefix: str, apply: Apply, *, snapshot_every: int = 32, optimistic: bool = False
    ) -> None:
        self.fs = fs
        self.prefix = prefix
        self._apply = apply
        self._snapshot_every = snapshot_every
        self._optimistic = optimistic
        self.lock = threading.RLock()
        self.state: State | None = None  # folded records 0..tip; None: not loaded
        self.tip = -1

    # ------------------------------------------------------------------ reading
    def _install_snapshot(self, data: bytes | None) -> None:
        if data is None:
            self.state, self.tip = {}, -1
            return
        snap = decode(data, snapshot_key(self.prefix))
        self.state, self.tip = snap["state"], int(snap["tip"])

    def _fold(self, n: int, data: bytes) -> None:
        assert self.state is not None
        record = decode(data, record_key(self.prefix, n))
        # Cannot fail for a record validated at append time; were it to, every reader skips it alike.
        with contextlib.suppress(MlopsError):
            self._apply(self.state, record, n)
        self.tip = n

    def catch_up(self, *, verify_origin: bool = False) -> None:
        """Fold every record that this process has not seen yet.

        Args:
            verify_origin: also check that record 0 still exists (in the same round of reads), so
                that a log deleted by another process is seen as gone rather than served from cache.
        """
        with self.lock:
            if self.state is None:
                self._install_snapshot(self.fs.read(snapshot_key(self.prefix)))
            elif verify_origin and self.tip >= 0:
                first = self.fs.read_many([record_key(self.prefix, 0), record_key(self.prefix, self.tip + 1)])
                if first[0] is None:
                    self.state, self.tip = {}, -1
                    return
                if first[1] is None:
                    return
            window = 1
            while True:
                start = self.tip + 1
                blobs = self.fs.read_many([record_key(self.prefix, n) for n in range(start, start + window)])
                for i, data in enumerate(blobs):
                    if data is None:
                        return
                    self._fold(start + i, data)
                window = min(window * 2, _MAX_WINDOW)

    def read(self, fn: Callable[[State], T], *, fresh: bool = True) -> T:
        """``fn(state)`` on the current state (after catching up unless ``fresh`` is False)."""
        with self.lock:
            if fresh or self.state is None:
                self.catch_up()
            assert self.state is not None
            return fn(self.state)

    def forget(self) -> None:
        """Drop the cached state (the next read starts from the snapshot)."""
        with self.lock:
            self.state, self.tip = None, -1

    # ------------------------------------------------------------------ writing
    def commit(self, record: dict[str, Any], *, snapshot: bool = False) -> Any:
        """Validate ``record`` against the latest state and append it; return ``apply``'s result.

        Args:
            record: a JSON-serializable change.
            snapshot: also store the folded state now (besides every ``snapshot_every`` records).

        Raises:
            MlopsError: whatever ``apply`` raises for an invalid change (nothing is stored).
            ConflictError: the append lost to other writers for two minutes.
        """
        data = encode(record)
        deadline = time.monotonic() + _COMMIT_TIMEOUT_S
        attempt = 0
        with self.lock:
            while True:
                fresh = not self._optimistic or self.state is None
                if fresh:
                    self.catch_up()
                assert self.state is not None
                n = self.tip + 1
                try:
                    result, changed = self._apply(self.state, record, n)  # raises before mutating
                except MlopsError:
                    if fresh:
                        raise
                    self.catch_up()
                    result, changed = self._apply(self.state, record, self.tip + 1)
                    n = self.tip + 1
                if not changed:
                    if fresh:
                        return result
                    self.catch_up()
                    n = self.tip + 1
                    result, changed = self._apply(self.state, record, n)
                    if not changed:
                        return result
                if self.fs.create(record_key(self.prefix, n), data):
                    self.tip = n
                    if snapshot or n % self._snapshot_every == 0:
                        self._store_snapshot()
                    return result
                # Another writer appended record n: our state already holds our change, so reload.
                self.state, self.tip = None, -1
                attempt += 1
                if time.monotonic() > deadline:
                    raise ConflictError(
                        f"could not append to {self.fs.uri}/{self.prefix} after {attempt} attempts: "
                        "too many concurrent writers; retry later"
                    )
                time.sleep(random.uniform(0, 0.002 * min(attempt, 20)))

    def _store_snapshot(self) -> None:
        key = snapshot_key(self.prefix)
        data = encode({"tip": self.tip, "state": self.state})
        try:
            current = self.fs.read_token(key)
            if current is not None and int(decode(current[0], key)["tip"]) >= self.tip:
                return
            self.fs.swap(key, data, None if current is None else current[1])
        except MlopsError:  # a snapshot is only a shortcut for readers
            pass


def refresh_many(logs: Sequence[Log]) -> None:
    """Catch up many logs at once, with one concurrent batch of reads per round.

    Used by searches over thousands of runs: on S3/GCS the reads of a round go out together instead
    of one log at a time. A log that another thread changes meanwhile is left for its next read.
    """
    fs = logs[0].fs if logs else None
    if fs is None:
        return
    unloaded = [log for log in logs if log.state is None]
    if unloaded:
        snaps = fs.read_many([snapshot_key(log.prefix) for log in unloaded])
        for log, data in zip(unloaded, snaps, strict=True):
            with log.lock:
                if log.state is None:
                    log._install_snapshot(data)
    pending = [(log, log.tip) for log in logs]
    window = 1
    while pending:
        keys = [record_key(log.prefix, tip + 1 + i) for log, tip in pending for i in range(window)]
        blobs = fs.read_many(keys)
        still: list[tuple[Log, int]] = []
        for j, (log, tip) in enumerate(pending):
            chunk = blobs[j * window : (j + 1) * window]
            with log.lock:
                if log.tip != tip:
                    continue  # changed meanwhile: its own read() catches up
                for i, data in enumerate(chunk):
                    if data is None:
                        break
                    log._fold(tip + 1 + i, data)
                else:
                    still.append((log, log.tip))
        pending = still
        window = min(window * 2, _MAX_WINDOW)
