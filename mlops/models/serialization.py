"""Turning a model object into bytes and back, safely by default.

* ``skops`` (the default for scikit-learn): a format that is *read*, not executed. Loading lists the
  types the file would construct (:func:`skops.io.get_untrusted_types`); :func:`trusted_policy`
  accepts only types from scikit-learn, NumPy and SciPy (minus a few submodules that touch files or
  compile code) and the builtins/collections that skops itself lists, plus any type the caller names
  explicitly. Anything else is refused before a single object is built.
* ``pickle``, ``joblib``, ``cloudpickle``: run arbitrary code when loaded. Saving with them is an
  explicit choice, and loading needs ``allow_pickle=True``.

Example:
    >>> from sklearn.linear_model import LinearRegression
    >>> data = dumps(LinearRegression().fit([[0.0], [1.0]], [0.0, 2.0]), "skops")
    >>> loads(data, "skops").coef_
    array([2.])
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any, Literal

from mlops.errors import IntegrityError, InvalidInputError, MissingDependencyError

__all__ = [
    "PICKLE_BASED",
    "SERIALIZATIONS",
    "Serialization",
    "check_serialization",
    "dumps",
    "file_name",
    "loads",
    "trusted_policy",
]

Serialization = Literal["skops", "pickle", "joblib", "cloudpickle"]
SERIALIZATIONS: tuple[str, ...] = ("skops", "pickle", "joblib", "cloudpickle")
PICKLE_BASED = frozenset({"pickle", "joblib", "cloudpickle"})

_TRUSTED_ROOTS = ("sklearn", "numpy", "scipy")
# Parts of the trusted libraries that read or write files, download, or compile and run code.
_DENIED_PREFIXES = (
    "numpy.f2py",
    "numpy.distutils",
    "numpy.testing",
    "numpy.ctypeslib",
    "numpy.lib.npyio",
    "numpy.lib._npyio_impl",
    "numpy.lib.format",
    "numpy.load",
    "numpy.save",
    "numpy.fromfile",
    "numpy.memmap",
    "scipy.io",
    "scipy._lib._testutils",
    "sklearn.datasets",
    "sklearn.utils._testing",
    "sklearn.externals",
)
_FILES = {"skops": "model.skops", "pickle": "model.pkl", "joblib": "model.joblib", "cloudpickle": "model.pkl"}
_OPT_IN = (
    "pickle-based files run arbitrary code when loaded; load only models you trust, with "
    "load_model(uri, allow_pickle=True)"
)


def check_serialization(value: Any) -> str:
    """Validate a ``serialization=`` argument.

    Raises:
        InvalidInputError: not one of ``skops``, ``pickle``, ``joblib``, ``cloudpickle``.

    Example:
        >>> check_serialization("joblib")
        'joblib'
    """
    if value not in SERIALIZATIONS:
        raise InvalidInputError(f"serialization must be one of {list(SERIALIZATIONS)}, not {value!r}")
    return str(value)


def file_name(serialization: str) -> str:
    """The model file's name for a serialization.

    Example:
        >>> file_name("skops")
        'model.skops'
    """
    return _FILES[check_serialization(serialization)]


def _skops() -> Any:
    try:
        import skops.io as sio
    except ImportError as e:
        raise MissingDependencyError(
            "safe scikit-learn serialization needs skops: pip install 'mlops[serve]' (or pip install "
            "skops), or save with serialization='pickle' if you accept pickle's risks"
        ) from e
    return sio


def dumps(obj: Any, serialization: str) -> bytes:
    """Serialize ``obj``.

    Raises:
        InvalidInputError: skops cannot represent the object (the message suggests the pickle opt-in),
            or an unknown serialization.

    Example:
        >>> len(dumps({"a": 1}, "pickle")) > 0
        True
    """
    serialization = check_serialization(serialization)
    if serialization == "skops":
        sio = _skops()
        try:
            data: bytes = sio.dumps(obj)
        except TypeError as e:  # skops' UnsupportedTypeException is a TypeError
            raise InvalidInputError(
                f"skops cannot serialize this {type(obj).__name__} ({e}). Save it with "
                "serialization='pickle' (or 'joblib'/'cloudpickle') if you accept that loading it will "
                "run code: load_model(..., allow_pickle=True) will then be needed"
            ) from e
        return data
    if serialization == "joblib":
        import joblib

        buffer = io.BytesIO()
        joblib.dump(obj, buffer)
        return buffer.getvalue()
    if serialization == "cloudpickle":
        try:
            import cloudpickle
        except ImportError as e:
            raise MissingDependencyError("serialization='cloudpickle' needs: pip install cloudpickle") from e
        out: bytes = cloudpickle.dumps(obj, protocol=5)
        return out
    import pickle

    return pickle.dumps(obj, protocol=5)


def trusted_policy(untrusted: Iterable[str], extra: Iterable[str] = ()) -> list[str]:
    """Decide which of skops' untrusted type names to trust; refuse the file if any is left over.

    Trusted: types under ``sklearn``, ``numpy`` or ``scipy`` (except submodules that read or write
    files or compile code), the builtins/collections skops lists as containers or primitives, and
    every name in ``extra`` (types the caller vouches for). Never everything.

    Raises:
        IntegrityError: a type outside the policy; the message names it and how to opt in.

    Example:
        >>> trusted_policy(["sklearn.tree._tree.Tree", "numpy.float64"])
        ['sklearn.tree._tree.Tree', 'numpy.float64']
        >>> trusted_policy(["mypkg.Custom"])
        Traceback (most recent call last):
        mlops.errors.IntegrityError: ...mypkg.Custom...trusted_types=...
    """
    extra_set = set(extra)
    known = _skops_listed()
    refused = []
    trusted = []
    for name in untrusted:
        if name in extra_set or name in known or _in_trusted_library(name):
            trusted.append(name)
        else:
            refused.append(name)
    if refused:
        raise IntegrityError(
            f"the model file would construct types outside the trusted set (scikit-learn, NumPy, SciPy): "
            f"{sorted(refused)}. If you trust this model and those types, load it with "
            f"load_model(uri, trusted_types={sorted(refused)!r})"
        )
    return trusted


def _in_trusted_library(name: str) -> bool:
    root = name.split(".", 1)[0]
    if root not in _TRUSTED_ROOTS:
        return False
    return not any(name == p or name.startswith((p + ".", p + "_")) for p in _DENIED_PREFIXES)


def _skops_listed() -> frozenset[str]:
    """Builtins and collections that skops documents as safe containers and primitives."""
    try:
        from skops.io import _trusted_types as tt

        return frozenset([*tt.CONTAINER_TYPE_NAMES, *tt.PRIMITIVE_TYPE_NAMES])
    except (ImportError, AttributeError):  # skops moved them: fall back to the plain builtins
        return frozenset(f"builtins.{n}" for n in ("int", "float", "str", "bool", "list", "dict", "tuple"))


def loads(
    data: bytes,
    serialization: str,
    *,
    allow_pickle: bool = False,
    trusted_types: Iterable[str] = (),
    source: str = "model",
) -> Any:
    """Deserialize bytes written by :func:`dumps`.

    Raises:
        IntegrityError: a pickle-based file without ``allow_pickle=True``, or a skops file that would
            construct a type outside :func:`trusted_policy`.
        InvalidInputError: an unknown serialization.

    Example:
        >>> loads(dumps([1, 2], "pickle"), "pickle")
        Traceback (most recent call last):
        mlops.errors.IntegrityError: ...allow_pickle=True...
    """
    serialization = check_serialization(serialization)
    if serialization in PICKLE_BASED:
        if not allow_pickle:
            raise IntegrityError(f"{source} is stored with {serialization}: {_OPT_IN}")
        if serialization == "joblib":
            import joblib

            return joblib.load(io.BytesIO(data))
        if serialization == "cloudpickle":
            try:
                import cloudpickle  # noqa: F401 - its reducers must be importable
            except ImportError as e:
                raise MissingDependencyError(f"{source} needs cloudpickle: pip install cloudpickle") from e
        import pickle

        return pickle.loads(data)  # the caller opted in (checked above)
    sio = _skops()
    try:
        untrusted = sio.get_untrusted_types(data=data)
    except Exception as e:  # a corrupt archive: never guess
        raise IntegrityError(f"{source} is not a readable skops file: {e!r}") from e
    trusted = trusted_policy(untrusted, trusted_types)
    try:
        return sio.loads(data, trusted=trusted)
    except Exception as e:
        if type(e).__name__ == "UntrustedTypesFoundException":
            raise IntegrityError(f"{source}: skops found untrusted types: {e}") from e
        raise
