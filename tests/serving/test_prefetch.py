"""Prefetcher: order, the bound on items made ahead, errors handed over, early close."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from mlops.errors import InvalidInputError
from mlops.serving._prefetch import Prefetcher


def _wait_until(condition: object, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:  # type: ignore[operator]
        time.sleep(0.005)


def test_items_come_in_order_then_stop() -> None:
    with Prefetcher(iter(range(50)), ahead=2) as items:
        assert list(items) == list(range(50))
        with pytest.raises(StopIteration):
            next(items)


@pytest.mark.parametrize("ahead", [1, 3])
def test_producer_stays_at_most_ahead_items_ahead(ahead: int) -> None:
    made = 0

    def produce() -> Iterator[int]:
        nonlocal made
        for i in range(20):
            made += 1
            yield i

    received = 0
    with Prefetcher(produce(), ahead=ahead) as items:
        for _ in items:
            received += 1
            time.sleep(0.02)  # room for a producer that ignores the bound to run ahead
            assert made <= received + ahead
    assert received == 20


@pytest.mark.parametrize("ahead", [1, 2])
def test_producer_makes_the_next_items_while_the_current_one_is_used(ahead: int) -> None:
    made = 0

    def produce() -> Iterator[int]:
        nonlocal made
        for i in range(10):
            made += 1
            yield i

    with Prefetcher(produce(), ahead=ahead) as items:
        assert next(items) == 0
        _wait_until(lambda: made >= 1 + ahead)
        time.sleep(0.02)
        assert made == 1 + ahead  # overlap, and no more than that
        assert list(items) == list(range(1, 10))


def test_an_error_in_the_producer_is_raised_by_next_after_the_items_before_it() -> None:
    def produce() -> Iterator[int]:
        yield 1
        yield 2
        raise OSError("disk gone")

    got = []
    with pytest.raises(OSError, match="disk gone"), Prefetcher(produce()) as items:
        for item in items:
            got.append(item)
    assert got == [1, 2]


def test_close_stops_the_producer_and_closes_its_iterator() -> None:
    made = 0
    closed = threading.Event()

    def produce() -> Iterator[int]:
        nonlocal made
        try:
            for i in range(1_000):
                made += 1
                yield i
        finally:
            closed.set()

    items = Prefetcher(produce(), ahead=1, name="test-prefetch")
    assert next(items) == 0
    _wait_until(lambda: made >= 2)
    items.close()
    assert closed.is_set()
    assert made <= 3
    assert not any(t.name == "test-prefetch" for t in threading.enumerate())
    with pytest.raises(StopIteration):
        next(items)


def test_close_before_the_first_item_is_taken() -> None:
    started, closed = threading.Event(), threading.Event()

    def produce() -> Iterator[int]:
        started.set()
        try:
            yield from range(10)
        finally:
            closed.set()

    items = Prefetcher(produce(), name="test-prefetch-untaken")
    assert started.wait(5)
    items.close()
    assert closed.is_set()
    assert not any(t.name == "test-prefetch-untaken" for t in threading.enumerate())


def test_ahead_must_be_positive() -> None:
    with pytest.raises(InvalidInputError, match="ahead"):
        Prefetcher(iter(()), ahead=0)
