"""Bounded read-ahead: run an iterator in a background thread, at most ``ahead`` items ahead.

``predict_file`` reads and decodes the next rows while the current ones are scored and written. Arrow
decoding, NumPy casts and scikit-learn's predict all release the GIL, so on two cores the stages
overlap instead of adding up.

Memory stays bounded: the producer takes one of ``ahead + 1`` *slots* before it makes an item, and a
slot comes back when the consumer asks for the next item (it is then done with the previous one).
So at most ``ahead + 1`` items exist at once: the one being used and up to ``ahead`` made (or being
made) while it is used. With ``ahead=1`` that is double buffering.

An exception raised by the iterator is handed over and raised by the consumer's ``next()``, so a
failed read surfaces in the calling thread exactly as it would without the thread. :meth:`Prefetcher.
close` (or leaving the ``with`` block) stops the producer after the item it is making, closes the
iterator (its ``finally`` blocks run) and joins the thread.

Example:
    >>> with Prefetcher(iter(range(5))) as items:
    ...     [x * x for x in items]
    [0, 1, 4, 9, 16]
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from types import TracebackType
from typing import Any, Generic, TypeVar

from mlops.errors import InvalidInputError

__all__ = ["Prefetcher"]

T = TypeVar("T")
_ITEM, _DONE, _ERROR = "item", "done", "error"


class Prefetcher(Generic[T]):
    """Iterate ``items`` in a daemon thread, keeping at most ``ahead`` items ready beyond the current one.

    Args:
        items: any iterable; it is iterated only in the background thread.
        ahead: items made ahead of the one the consumer holds (1: double buffering).
        name: the thread's name.

    Raises:
        InvalidInputError: ``ahead`` is not a positive integer.
    """

    def __init__(self, items: Iterable[T], *, ahead: int = 1, name: str = "mlops-read-ahead") -> None:
        if isinstance(ahead, bool) or not isinstance(ahead, int) or ahead < 1:
            raise InvalidInputError(f"ahead must be a positive integer, not {ahead!r}")
        self._items = items
        self._slots = threading.Semaphore(ahead + 1)  # the consumer's current item holds one
        self._handoff: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._holding = False  # the consumer holds an item whose slot is not back yet
        self._finished = False
        self._thread = threading.Thread(target=self._produce, name=name, daemon=True)
        self._thread.start()

    # ------------------------------------------------------------------ producer (background thread)
    def _produce(self) -> None:
        iterator: Iterator[T] | None = None
        try:
            iterator = iter(self._items)
            while True:
                self._slots.acquire()
                if self._stop.is_set():
                    return
                try:
                    item = next(iterator)
                except StopIteration:
                    self._handoff.put((_DONE, None))
                    return
                self._handoff.put((_ITEM, item))
                del item  # the consumer's reference is the only one
        except BaseException as error:  # handed to the consumer, raised there
            self._handoff.put((_ERROR, error))
        finally:
            close = getattr(iterator, "close", None)
            if callable(close):
                close()

    # ------------------------------------------------------------------ consumer (calling thread)
    def __iter__(self) -> Prefetcher[T]:
        return self

    def __next__(self) -> T:
        if self._finished:
            raise StopIteration
        if self._holding:  # done with the previous item: its slot goes back to the producer
            self._holding = False
            self._slots.release()
        kind, value = self._handoff.get()
        if kind == _ITEM:
            self._holding = True
            result: T = value
            return result
        self._finished = True
        if kind == _ERROR:
            raise value
        raise StopIteration

    def close(self) -> None:
        """Stop the producer after its current item, close the iterator and join the thread."""
        self._finished = True
        self._stop.set()
        self._slots.release()  # wakes a producer waiting for a slot; it then sees the stop flag
        if self._thread is not threading.current_thread():
            self._thread.join()
        while True:  # drop items made but never taken
            try:
                self._handoff.get_nowait()
            except queue.Empty:
                break

    def __enter__(self) -> Prefetcher[T]:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
