"""Benchmarks for ``mlops`` (workloads and targets in ``../shared/docs/BENCHMARKS.md``).

They are never run by the test suite.
"""
