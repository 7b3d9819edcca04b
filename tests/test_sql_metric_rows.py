"""Rows built from metric points: history rows keep every point; "latest" matches its definition."""

from __future__ import annotations

import math
import struct

from hypothesis import given
from hypothesis import strategies as st

from mlops.entities import Metric
from mlops.store.sql.metric_rows import latest_rows, metric_rows

values = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.just(math.nan))
points = st.lists(
    st.builds(
        Metric,
        key=st.sampled_from(["a", "b", "c"]),
        value=values,
        timestamp=st.integers(0, 3),
        step=st.integers(0, 3),
    ),
    max_size=40,
)


def _brute_latest(metrics: list[Metric]) -> dict[str, int]:
    """Index of each key's latest point: highest (step, timestamp), the last given among equals."""
    best: dict[str, int] = {}
    for i, m in enumerate(metrics):
        j = best.get(m.key)
        if j is None or (m.step, m.timestamp) >= (metrics[j].step, metrics[j].timestamp):
            best[m.key] = i
    return best


@given(points)
def test_history_rows_keep_every_point_and_encode_nan(metrics: list[Metric]) -> None:
    rows, _ = metric_rows(5, metrics)
    assert len(rows) == len(metrics)
    for row, m in zip(rows, metrics, strict=True):
        run_num, key, step, timestamp, value, is_nan = row
        assert (run_num, key, step, timestamp) == (5, m.key, m.step, m.timestamp)
        assert is_nan is math.isnan(m.value)
        assert value is None if is_nan else value == m.value


@given(points)
def test_latest_rows_match_the_definition(metrics: list[Metric]) -> None:
    rows, latest = metric_rows(5, metrics)
    expected = sorted(rows[i] for i in _brute_latest(metrics).values())
    # rows hold None for NaN, so they compare; sort by key to ignore the order of keys
    assert sorted((r[:6] for r in latest), key=lambda r: r[1]) == sorted(expected, key=lambda r: r[1])
    for row in latest:  # the value's bytes: exactly the value (-0.0 as 0.0, as SQLite keeps it), or a NaN
        (decoded,) = struct.unpack("<d", row[6])
        if row[5]:
            assert math.isnan(decoded)
        else:
            assert decoded == row[4] and math.copysign(1, decoded) == (-1 if row[4] < 0 else 1)


@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5)), max_size=30))
def test_monotonic_fast_path_and_general_path_agree(order: list[tuple[int, int]]) -> None:
    """Sorted input takes the fast path; the same rows shuffled take the general one."""
    rows = [(1, f"k{i % 3}", step, stamp, float(i), False) for i, (step, stamp) in enumerate(sorted(order))]
    for given_rows in (rows, list(reversed(rows))):
        by_key = {r[1]: r for r in latest_rows(given_rows)}
        assert set(by_key) == {r[1] for r in given_rows}
        for key, chosen in by_key.items():
            positions = [i for i, r in enumerate(given_rows) if r[1] == key]
            winner = max(positions, key=lambda i: (given_rows[i][2], given_rows[i][3], i))
            assert chosen is given_rows[winner]
