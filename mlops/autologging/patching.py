"""Find scikit-learn's fitting methods and wrap them; restore them on demand.

Estimators are found with ``sklearn.utils.all_estimators()`` at the moment :func:`patch` runs, so
estimators added by a newer scikit-learn are covered without a code change. For each estimator and
each of ``fit``, ``fit_transform`` and ``fit_predict`` the class that *defines* the method (walking the
MRO) is patched once; subclasses, including the user's own, inherit the wrapper.
"""

from __future__ import annotations

import functools
import inspect
import threading
from collections.abc import Callable
from typing import Any

__all__ = ["FIT_METHODS", "is_patched", "patch", "unpatch"]

FIT_METHODS = ("fit", "fit_transform", "fit_predict")
_MARKER = "__mlops_autolog_original__"

_lock = threading.Lock()
_patched: dict[tuple[type, str], Callable[..., Any]] = {}  # (defining class, method) -> original


def _defining_class(cls: type, name: str) -> type | None:
    for klass in cls.__mro__:
        if name in vars(klass):
            return klass
    return None


def _estimator_classes() -> list[type]:
    from sklearn.utils import all_estimators

    return [cls for _, cls in all_estimators()]


def patch(make_wrapper: Callable[[Callable[..., Any], str], Callable[..., Any]]) -> int:
    """Wrap every fitting method; ``make_wrapper(original, method_name)`` returns the replacement.

    Returns the number of methods patched by this call (already patched ones are left alone).

    Example:
        >>> n = patch(lambda original, name: original)  # a no-op wrapper
        >>> n > 100 and is_patched()
        True
        >>> unpatch() == n
        True
    """
    count = 0
    with _lock:
        for cls in _estimator_classes():
            for name in FIT_METHODS:
                owner = _defining_class(cls, name)
                if owner is None or (owner, name) in _patched:
                    continue
                if not owner.__module__.startswith("sklearn"):
                    continue  # a third-party base class: not ours to change
                original = vars(owner)[name]
                if isinstance(original, (staticmethod, classmethod)) or not inspect.isfunction(original):
                    continue
                wrapper = functools.wraps(original)(make_wrapper(original, name))
                setattr(wrapper, _MARKER, original)
                setattr(owner, name, wrapper)
                _patched[(owner, name)] = original
                count += 1
    return count


def unpatch() -> int:
    """Restore every original method; return how many were restored."""
    with _lock:
        restored = 0
        for (owner, name), original in _patched.items():
            current = vars(owner).get(name)
            if getattr(current, _MARKER, None) is original:
                setattr(owner, name, original)
                restored += 1
        _patched.clear()
        return restored


def is_patched() -> bool:
    """True while fitting methods are wrapped."""
    return bool(_patched)
