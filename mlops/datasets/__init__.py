"""Real data shipped with mlops, for the demo, the docs and the tests.

Example:
    >>> from mlops.datasets import load_credit_default
    >>> frame = load_credit_default()
    >>> frame.shape, round(float(frame["default"].mean()), 4)
    ((30000, 25), 0.2212)
"""

from mlops.datasets.credit import CREDIT_ATTRIBUTION, load_credit_default

__all__ = ["CREDIT_ATTRIBUTION", "load_credit_default"]
