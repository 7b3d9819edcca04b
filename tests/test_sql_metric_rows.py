"""Rows built from metric points: history chunks keep every point, bit for bit and in order; "latest"
matches its definition; a damaged chunk is refused."""

from __future__ import annotations

import math
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlops.entities import Metric
from mlops.errors import IntegrityError
from mlops.store.sql import metric_rows as mr
from mlops.store.sql.metric_rows import history_from_chunks, metric_chunks

values = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.just(math.nan))
points = st.lists(
    st.builds(
        Metric,
        key=st.sampled_from(["a", "b", "c"]),
        value=values,
        timestamp=st.integers(0, 3),
        step=st.sampled_from([0, 1, 2, 3, 2**63 - 1]),
    ),
    max_size=40,
)


def _bits(value: float) -> bytes:
    return struct.pack("<d", value)


def _brute_latest(metrics: list[Metric]) -> dict[str, int]:
    """Index of each key's latest point: highest (step, timestamp), the last given among equals."""
    best: dict[str, int] = {}
    for i, m in enumerate(metrics):
        j = best.get(m.key)
        if j is None or (m.step, m.timestamp) >= (metrics[j].step, metrics[j].timestamp):
            best[m.key] = i
    return best


def _brute_history(metrics: list[Metric], key: str) -> list[tuple[int, int, bytes]]:
    """A key's points by step, then timestamp, then the order given; values as their bytes (NaN's
    payload included: the chunks keep it)."""
    mine = [(m.step, m.timestamp, i, m.value) for i, m in enumerate(metrics) if m.key == key]
    return [(step, stamp, _bits(value)) for step, stamp, _, value in sorted(mine)]


@pytest.mark.parametrize("chunk_points", [1, 3, mr.CHUNK_POINTS])
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])  # the same patch for every example
@given(batches=st.lists(points, min_size=1, max_size=3))
def test_history_keeps_every_point_bit_for_bit_in_order(
    monkeypatch: pytest.MonkeyPatch, chunk_points: int, batches: list[list[Metric]]
) -> None:
    """Several writes, each split into chunks of at most ``chunk_points``, read back as one history."""
    monkeypatch.setattr(mr, "CHUNK_POINTS", chunk_points)
    written: list[tuple[int, str, int, bytes, bytes, bytes]] = []
    for batch in batches:
        chunks, _ = metric_chunks(5, batch)
        assert all(0 < points <= chunk_points for _, _, points, *_ in chunks)
        written += chunks
    logged = [m for batch in batches for m in batch]
    for key in ("a", "b", "c"):
        history = history_from_chunks(key, [c[2:] for c in written if c[1] == key])
        assert all(m.key == key for m in history)
        assert [(m.step, m.timestamp, _bits(m.value)) for m in history] == _brute_history(logged, key)


@given(points)
def test_latest_rows_match_the_definition(metrics: list[Metric]) -> None:
    _, latest = metric_chunks(5, metrics)
    expected = _brute_latest(metrics)
    assert [row[1] for row in latest] == list(dict.fromkeys(m.key for m in metrics))  # first-seen order
    for run, key, step, stamp, value, is_nan, bits in latest:
        chosen = metrics[expected[key]]
        assert (run, step, stamp) == (5, chosen.step, chosen.timestamp)
        assert is_nan is math.isnan(chosen.value)
        if is_nan:  # NULL plus is_nan in the table; a NaN in the bytes
            assert value is None and math.isnan(struct.unpack("<d", bits)[0])
        else:  # the value, and its bytes with -0.0 as 0.0 (as SQLite's REAL column gives it back)
            assert value == chosen.value and bits == _bits(chosen.value + 0.0)


@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5)), min_size=1, max_size=30))
def test_monotonic_fast_path_and_general_path_agree(order: list[tuple[int, int]]) -> None:
    """Sorted points take the fast path; the same points reversed take the general one."""
    ordered = [Metric("k", float(i), stamp, step) for i, (step, stamp) in enumerate(sorted(order))]
    for given_points in (ordered, ordered[::-1]):
        (row,) = metric_chunks(1, given_points)[1]
        winner = max(
            range(len(given_points)), key=lambda i: (given_points[i].step, given_points[i].timestamp, i)
        )
        assert row[4] == given_points[winner].value


def test_a_damaged_chunk_is_refused() -> None:
    (chunk,), _ = metric_chunks(1, [Metric("loss", 0.5, 1, 0), Metric("loss", 0.25, 2, 1)])
    points, steps, stamps, values = chunk[2:]
    with pytest.raises(IntegrityError, match="'loss' is damaged"):
        history_from_chunks("loss", [(points, steps, stamps, values[:8])])
    assert history_from_chunks("loss", []) == []
