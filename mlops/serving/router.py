"""``Router``: A/B traffic between model versions by weight, sticky or random, with a shadow model.

Assignment: with ``sticky_key``, a record goes to the variant picked by ``blake2b(str(record[key]))``
keyed with the seed, mapped onto the cumulative weights. It depends only on the key, the seed, and
the variants' order and weights, so one customer always gets the same variant in every process and
after restarts (Python's ``hash()`` is salted per process and is never used). Without a sticky key
the variant is drawn from a ``random.Random(seed)``.

Shadow mode: ``shadow=uri`` scores every routed record with that model *after* the response is
computed, on a background thread fed by a bounded queue; the caller never waits for it and never
sees its errors. Its counts, errors, latency and agreement with the answered prediction are in
:meth:`Router.summary` (a full queue drops shadow work and counts it).

Outcomes: ``predict`` returns a :class:`~mlops.serving.online.Prediction` with a ``request_id``;
``record_outcome(request_id, y)`` credits the outcome (0/1, or a bool) to the variant that answered,
and :meth:`Router.summary` compares each variant's outcome rate with the first variant's
(the control) with a two-sided two-proportion z-test.

Example:
    >>> import pathlib, tempfile
    >>> import pandas as pd
    >>> from sklearn.dummy import DummyClassifier
    >>> from mlops.models import save_model
    >>> X = pd.DataFrame({"x": [0.0, 1.0]}); tmp = pathlib.Path(tempfile.mkdtemp())
    >>> for name, label in (("a", 0), ("b", 1)):
    ...     model = DummyClassifier(strategy="constant", constant=label).fit(X, [0, 1])
    ...     _ = save_model(model, tmp / name, input_example=X)
    >>> router = Router({str(tmp / "a"): 0.5, str(tmp / "b"): 0.5}, sticky_key="customer")
    >>> p = router.predict({"customer": 42, "x": 1.0})
    >>> p.variant == router.route({"customer": 42}) and p.value == (p.variant == str(tmp / "b"))
    True
    >>> router.close()
"""

from __future__ import annotations

import bisect
import collections
import hashlib
import logging
import math
import queue
import random
import threading
import time
from collections.abc import Mapping
from typing import Any

from mlops.errors import InvalidInputError, NotFoundError
from mlops.serving._plan import Output
from mlops.serving.online import OnlinePredictor, Prediction
from mlops.serving.sinks import PredictionSink

__all__ = ["Router", "two_proportion_z_test"]

_log = logging.getLogger("mlops.serving")
_LATENCIES = 10_000  # latencies kept per variant for percentiles


class _Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests = 0
        self.errors = 0
        self.latencies: collections.deque[float] = collections.deque(maxlen=_LATENCIES)
        self.value_sum = 0.0
        self.value_n = 0
        self.outcomes = 0
        self.successes = 0.0
        self.agree = 0  # shadow only
        self.dropped = 0  # shadow only

    def add(self, prediction: Prediction) -> None:
        value = prediction.value
        with self.lock:
            self.requests += 1
            self.latencies.append(prediction.latency_ms)
            if isinstance(value, (int, float)):
                self.value_sum += float(value)
                self.value_n += 1


class Router:
    """Splits requests between model variants by weight; optional sticky key and shadow model.

    Args:
        variants: ``{model_uri: weight}``; weights are relative (they need not sum to 1). The first
            variant is the control in :meth:`summary`.
        sticky_key: a record field (a customer id) whose value decides the variant for good.
        shadow: a model URI scored on every request without being returned.
        seed: salts the sticky hash and seeds the random draws.
        output: ``"predict"``, ``"predict_proba"`` or ``"both"`` (for every variant).
        refresh_s: follow aliases/stages in the variant URIs (see :class:`OnlinePredictor`).
        log_to: log predictions (with the variant) to a sink (see :class:`OnlinePredictor`).
        shadow_queue: shadow requests that may wait; beyond that they are dropped and counted.
        max_pending_outcomes: request ids remembered for :meth:`record_outcome` (oldest forgotten).
        **load_options: passed to :func:`mlops.load_model`.

    Raises:
        InvalidInputError: no variants, a negative or non-finite weight, or all weights zero.

    Example:
        >>> Router({})
        Traceback (most recent call last):
        mlops.errors.InvalidInputError: a Router needs at least one variant: {model_uri: weight}
    """

    def __init__(
        self,
        variants: Mapping[str, float],
        *,
        sticky_key: str | None = None,
        shadow: str | None = None,
        seed: int = 0,
        output: Output = "predict",
        refresh_s: float | None = None,
        log_to: PredictionSink | str | None = None,
        shadow_queue: int = 10_000,
        max_pending_outcomes: int = 100_000,
        **load_options: Any,
    ) -> None:
        if not isinstance(variants, Mapping) or not variants:
            raise InvalidInputError("a Router needs at least one variant: {model_uri: weight}")
        weights = []
        for uri, w in variants.items():
            if isinstance(w, bool) or not isinstance(w, (int, float)) or not math.isfinite(w) or w < 0:
                raise InvalidInputError(f"the weight of {uri!r} must be a finite number >= 0, not {w!r}")
            weights.append(float(w))
        total = sum(weights)
        if total <= 0:
            raise InvalidInputError("at least one variant needs a weight above 0")
        if sticky_key is not None and not isinstance(sticky_key, str):
            raise InvalidInputError(f"sticky_key must be a field name (a string), not {sticky_key!r}")
        self.names: tuple[str, ...] = tuple(variants)
        self.weights: tuple[float, ...] = tuple(w / total for w in weights)
        self._cumulative = [sum(self.weights[: i + 1]) for i in range(len(self.weights))]
        self._cumulative[-1] = 1.0
        self.sticky_key = sticky_key
        self.seed = seed
        self._salt = hashlib.blake2b(repr(seed).encode(), digest_size=16).digest()
        self._random = random.Random(seed)
        self._random_lock = threading.Lock()
        options = dict(load_options)
        self._predictors: dict[str, OnlinePredictor] = {}
        try:
            for uri in self.names:
                self._predictors[uri] = OnlinePredictor(
                    uri,
                    output=output,
                    refresh_s=refresh_s if refresh_s is not None and _follows(uri) else None,
                    log_to=log_to,
                    **options,
                )
            self.shadow = shadow
            self._shadow: OnlinePredictor | None = None
            if shadow is not None:
                self._shadow = OnlinePredictor(shadow, output=output, **options)
        except BaseException:
            for p in self._predictors.values():
                p.close()
            raise
        self._stats = {uri: _Stats() for uri in self.names}
        self._shadow_stats = _Stats()
        self._outcome_lock = threading.Lock()
        self._pending: collections.OrderedDict[str, str] = collections.OrderedDict()
        self._max_pending = max_pending_outcomes
        self._queue: queue.Queue[tuple[dict[str, Any], Prediction] | None] = queue.Queue(maxsize=shadow_queue)
        self._shadow_thread: threading.Thread | None = None
        if self._shadow is not None:
            self._shadow_thread = threading.Thread(target=self._shadow_loop, name="mlops-shadow", daemon=True)
            self._shadow_thread.start()

    def __repr__(self) -> str:
        split = ", ".join(f"{n!r}: {w:.3g}" for n, w in zip(self.names, self.weights, strict=True))
        return f"Router({{{split}}}, sticky_key={self.sticky_key!r}, shadow={self.shadow!r})"

    def __enter__(self) -> Router:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ routing
    def route(self, record: Mapping[str, Any]) -> str:
        """The variant (its model URI) that ``record`` goes to, without scoring it.

        Without a sticky key this draws from the router's random stream (and so moves it on).

        Raises:
            InvalidInputError: the record lacks the sticky key.

        Example:
            >>> Router.__doc__ is not None
            True
        """
        if self.sticky_key is None:
            with self._random_lock:
                u = self._random.random()
        else:
            if not isinstance(record, Mapping) or self.sticky_key not in record:
                raise InvalidInputError(f"the record has no sticky key {self.sticky_key!r} to route by")
            u = self.bucket(record[self.sticky_key])
        return self.names[min(bisect.bisect_right(self._cumulative, u), len(self.names) - 1)]

    def bucket(self, key: Any) -> float:
        """Where ``key`` falls in [0, 1): ``blake2b`` of ``str(key)``, keyed with the seed.

        Example:
            >>> Router.bucket.__doc__ is not None
            True
        """
        digest = hashlib.blake2b(str(key).encode("utf-8"), digest_size=8, key=self._salt).digest()
        return int.from_bytes(digest, "big") / 2.0**64

    def predict(self, record: Mapping[str, Any]) -> Prediction:
        """Route ``record``, score it with its variant, and return that prediction.

        The sticky key is removed from the record before scoring unless the model takes it as input.
        The result's ``variant`` names the variant and ``request_id`` is for :meth:`record_outcome`.

        Raises:
            InvalidInputError: the record does not match the variant's signature or lacks the key.
        """
        variant = self.route(record)
        predictor = self._predictors[variant]
        features = self._features(record, predictor)
        stats = self._stats[variant]
        try:
            prediction = predictor.predict(features, variant=variant)
        except Exception:
            with stats.lock:
                stats.errors += 1
            raise
        stats.add(prediction)
        with self._outcome_lock:
            self._pending[prediction.request_id] = variant
            if len(self._pending) > self._max_pending:
                self._pending.popitem(last=False)
        if self._shadow is not None:
            try:
                self._queue.put_nowait((dict(record), prediction))
            except queue.Full:
                with self._shadow_stats.lock:
                    self._shadow_stats.dropped += 1
        return prediction

    def _features(self, record: Mapping[str, Any], predictor: OnlinePredictor) -> Mapping[str, Any]:
        key = self.sticky_key
        if key is None or key not in record or key in predictor._active.plan.names:
            return record
        return {k: v for k, v in record.items() if k != key}

    def _shadow_loop(self) -> None:
        shadow = self._shadow
        assert shadow is not None
        stats = self._shadow_stats
        while True:
            item = self._queue.get()
            if item is None:
                self._queue.task_done()
                return
            try:
                self._score_shadow(shadow, stats, *item)
            finally:
                self._queue.task_done()

    def _score_shadow(
        self, shadow: OnlinePredictor, stats: _Stats, features: dict[str, Any], answered: Prediction
    ) -> None:
        try:
            if self.sticky_key is not None and self.sticky_key not in shadow._active.plan.names:
                features = {k: v for k, v in features.items() if k != self.sticky_key}
            result = shadow.predict(features, variant="shadow")
        except Exception as e:  # never reaches the caller
            with stats.lock:
                stats.errors += 1
            _log.debug("shadow model failed on request %s: %s", answered.request_id, e)
            return
        stats.add(result)
        if result.value == answered.value:
            with stats.lock:
                stats.agree += 1

    def wait_for_shadow(self, timeout_s: float = 10.0) -> bool:
        """Wait until queued shadow work is done (tests, orderly shutdown); False on timeout."""
        deadline = time.monotonic() + timeout_s
        while self._queue.unfinished_tasks:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.002)
        return True

    # ------------------------------------------------------------------ outcomes and summary
    def record_outcome(self, request_id: str, outcome: Any) -> str:
        """Credit an outcome (1/0 or True/False) to the variant that answered ``request_id``.

        Returns:
            The variant's name.

        Raises:
            NotFoundError: an unknown request id, one already used, or one forgotten (older than
                ``max_pending_outcomes`` requests).
            InvalidInputError: the outcome is not 0/1 or a bool.
        """
        if isinstance(outcome, bool) or outcome in (0, 1):
            y = float(outcome)
        else:
            raise InvalidInputError(f"an outcome is 0/1 or a bool, not {outcome!r}")
        with self._outcome_lock:
            variant = self._pending.pop(request_id, None)
        if variant is None:
            raise NotFoundError(
                f"no request {request_id!r} waits for an outcome (unknown, already used or forgotten)"
            )
        stats = self._stats[variant]
        with stats.lock:
            stats.outcomes += 1
            stats.successes += y
        return variant

    def summary(self) -> Any:
        """Per-variant figures as a DataFrame, one row per variant (and ``shadow``).

        Columns: ``weight``, ``requests``, ``share``, ``errors``, ``latency_p50_ms``,
        ``latency_p99_ms``, ``mean_prediction``, ``outcomes``, ``outcome_rate``, and against the
        control (the first variant): ``rate_difference``, ``z``, ``p_value`` (two-proportion z-test,
        NaN without outcomes on both sides). The shadow row adds ``agreement`` and ``dropped``.

        Example:
            >>> Router.summary.__doc__ is not None
            True
        """
        import numpy as np
        import pandas as pd

        total = sum(s.requests for s in self._stats.values())
        rows = []
        control = self._stats[self.names[0]]
        for name, weight in zip(self.names, self.weights, strict=True):
            s = self._stats[name]
            row = _row(s, total)
            row.update(variant=name, role="control" if name == self.names[0] else "variant", weight=weight)
            test = two_proportion_z_test(control.successes, control.outcomes, s.successes, s.outcomes)
            row.update(rate_difference=test[0], z=test[1], p_value=test[2])
            if name == self.names[0]:
                row.update(rate_difference=np.nan, z=np.nan, p_value=np.nan)
            rows.append(row)
        if self._shadow is not None:
            s = self._shadow_stats
            row = _row(s, total)
            row.update(
                variant=self.shadow,
                role="shadow",
                weight=0.0,
                dropped=s.dropped,
                agreement=s.agree / s.requests if s.requests else np.nan,
            )
            rows.append(row)
        return pd.DataFrame(rows).set_index("variant")

    def close(self) -> None:
        """Finish shadow work, stop polling and flush prediction logs."""
        if self._shadow_thread is not None:
            self._queue.put(None)
            self._shadow_thread.join()
            self._shadow_thread = None
        for p in self._predictors.values():
            p.close()
        if self._shadow is not None:
            self._shadow.close()


def _row(s: _Stats, total: int) -> dict[str, Any]:
    import numpy as np

    with s.lock:
        lat = np.asarray(s.latencies) if s.latencies else None
        return {
            "requests": s.requests,
            "share": s.requests / total if total else np.nan,
            "errors": s.errors,
            "latency_p50_ms": float(np.percentile(lat, 50)) if lat is not None else np.nan,
            "latency_p99_ms": float(np.percentile(lat, 99)) if lat is not None else np.nan,
            "mean_prediction": s.value_sum / s.value_n if s.value_n else np.nan,
            "outcomes": s.outcomes,
            "outcome_rate": s.successes / s.outcomes if s.outcomes else np.nan,
        }


def two_proportion_z_test(x1: float, n1: int, x2: float, n2: int) -> tuple[float, float, float]:
    """``(p2 - p1, z, two-sided p-value)`` of the pooled two-proportion z-test; NaNs when a side is empty.

    Example:
        >>> d, z, p = two_proportion_z_test(50, 100, 65, 100)
        >>> round(d, 2), round(z, 3), round(p, 4)
        (0.15, 2.146, 0.0319)
    """
    if n1 <= 0 or n2 <= 0:
        return math.nan, math.nan, math.nan
    p1, p2 = x1 / n1, x2 / n2
    pooled = (x1 + x2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return p2 - p1, 0.0, 1.0
    z = (p2 - p1) / se
    return p2 - p1, z, math.erfc(abs(z) / math.sqrt(2))


def _follows(uri: str) -> bool:
    from mlops.serving._source import ModelSource

    return ModelSource(uri).follows
