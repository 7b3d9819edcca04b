"""mlops: the whole life of a machine-learning model, embedded in your Python process.

Example:
    >>> import mlops
    >>> mlops.__version__
    '0.1.0'
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
