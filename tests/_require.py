"""Skip a test whose server or package is missing, unless the run demands every backend.

``.ci/run`` sets ``MLOPS_TEST_REQUIRE_SERVERS=1``: then a missing S3, GCS or PostgreSQL server is a
failure, not a skip, so CI can never pass while silently leaving out a backend.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def servers_required() -> bool:
    return os.environ.get("MLOPS_TEST_REQUIRE_SERVERS", "") == "1"


def skip_or_fail(reason: str) -> NoReturn:
    if servers_required():
        pytest.fail(f"{reason} (MLOPS_TEST_REQUIRE_SERVERS=1 forbids skipping this backend)")
    pytest.skip(reason)
