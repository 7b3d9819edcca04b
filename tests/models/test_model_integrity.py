"""Tampering with a saved or logged model is caught before anything is deserialized.

The probe is a python-function model whose unpickling writes a marker file (``__reduce__`` calls
``_touch``): after every refused load the marker must be absent, proving no byte was unpickled.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from mlops import Client
from mlops.errors import IntegrityError, InvalidInputError
from mlops.models import MANIFEST_FILE, load_model, save_model
from mlops.models.log import MANIFEST_TAG_PREFIX, log_model_to_run
from mlops.models.manifest import sha256_bytes

X = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 1.0], [3.0, 0.0]])
Y = np.array([0, 0, 1, 1])


class Constant:
    """A python-function model."""

    def __init__(self, value: int) -> None:
        self.value = value

    def predict(self, data: Any) -> Any:
        return np.full(len(data), self.value)


def _touch(marker: str) -> Constant:
    Path(marker).write_text("unpickled")
    return Constant(7)


class Tripwire(Constant):
    """Unpickling it writes ``marker``: the proof that a load deserialized something."""

    def __init__(self, marker: Path) -> None:
        super().__init__(7)
        self.marker = str(marker)

    def __reduce__(self) -> Any:
        return (_touch, (self.marker,))


@pytest.fixture
def marker(tmp_path: Path) -> Path:
    return tmp_path / "marker.txt"


@pytest.fixture
def saved(tmp_path: Path, marker: Path) -> Path:
    path = tmp_path / "model"
    save_model(Tripwire(marker), path, serialization="cloudpickle", input_example=X)
    assert not marker.exists()
    return path


def test_the_tripwire_fires_on_a_trusted_load(saved: Path, marker: Path) -> None:
    model = load_model(str(saved), allow_pickle=True)
    assert marker.exists()
    assert model.predict(X).tolist() == [7, 7, 7, 7]


def test_pickle_needs_the_opt_in(saved: Path, marker: Path) -> None:
    with pytest.raises(IntegrityError, match="allow_pickle=True"):
        load_model(str(saved))
    assert not marker.exists()


def test_pyfunc_must_opt_in_to_pickle_when_saving(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="serialization='cloudpickle'"):
        save_model(Constant(1), tmp_path / "m")
    assert not (tmp_path / "m").exists()


def _flip_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    "tamper, named",
    [
        (lambda d: _flip_byte(d / "model.pkl"), "model.pkl"),
        (lambda d: _flip_byte(d / "input_example.npy"), "input_example.npy"),
        (lambda d: (d / "input_example.npy").unlink(), "input_example.npy"),
        (lambda d: (d / "extra.py").write_text("print('hi')"), "extra.py"),
        (lambda d: (d / "sub").mkdir() or (d / "sub" / "x.bin").write_bytes(b"x"), "sub/x.bin"),
    ],
    ids=["flip-model-byte", "flip-example-byte", "remove-file", "add-file", "add-nested-file"],
)
def test_tampered_files_are_refused(saved: Path, marker: Path, tamper: Any, named: str) -> None:
    tamper(saved)
    with pytest.raises(IntegrityError, match=named):
        load_model(str(saved), allow_pickle=True)
    assert not marker.exists()


def _replace_model_and_fix_manifest(directory: Path, payload: bytes) -> None:
    """The strong attack: swap the model file and rewrite its hash in the manifest."""
    (directory / "model.pkl").write_bytes(payload)
    manifest = json.loads((directory / MANIFEST_FILE).read_text())
    manifest["files"]["model.pkl"] = sha256_bytes(payload)
    (directory / MANIFEST_FILE).write_text(json.dumps(manifest))


def test_an_edited_manifest_is_refused_given_its_hash(tmp_path: Path, marker: Path) -> None:
    info = save_model(Constant(1), tmp_path / "model", serialization="cloudpickle")
    import cloudpickle

    _replace_model_and_fix_manifest(tmp_path / "model", cloudpickle.dumps(Tripwire(marker)))
    with pytest.raises(IntegrityError, match=MANIFEST_FILE):
        load_model(str(tmp_path / "model"), allow_pickle=True, manifest_sha256=info.manifest_sha256)
    assert not marker.exists()


def test_a_symlink_in_the_model_dir_is_refused(saved: Path, marker: Path, tmp_path: Path) -> None:
    (tmp_path / "outside.txt").write_text("x")
    (saved / "link.txt").symlink_to(tmp_path / "outside.txt")
    with pytest.raises(IntegrityError, match="symlink"):
        load_model(str(saved), allow_pickle=True)
    assert not marker.exists()


@pytest.mark.parametrize("field", ["model_file", "files", "format_version"])
def test_a_malformed_manifest_is_an_integrity_error(tmp_path: Path, field: str) -> None:
    save_model(LogisticRegression().fit(X, Y), tmp_path / "m")
    manifest = json.loads((tmp_path / "m" / MANIFEST_FILE).read_text())
    manifest[field] = {"model_file": "../../etc/passwd", "files": {"../x": "0"}, "format_version": 99}[field]
    (tmp_path / "m" / MANIFEST_FILE).write_text(json.dumps(manifest))
    with pytest.raises(IntegrityError):
        load_model(str(tmp_path / "m"))


# ------------------------------------------------------------------ logged to a run
@pytest.fixture
def client(tmp_path: Path) -> Client:
    return Client(f"sqlite:///{tmp_path / 'mlops.db'}", artifact_uri=str(tmp_path / "artifacts"))


def _model_dir(client: Client, run_id: str, name: str) -> Path:
    root = client.artifact_store(run_id).root_uri
    return Path(root.removeprefix("file://")) / name


def test_a_logged_model_with_a_swapped_file_and_manifest_is_refused(client: Client, marker: Path) -> None:
    """Even when the attacker also rewrites the store's recorded hash, the run's tag still vouches."""
    import cloudpickle

    run = client.create_run(client.get_or_create_experiment("tamper").experiment_id)
    log_model_to_run(client, run.run_id, Constant(1), "model", serialization="cloudpickle")
    directory = _model_dir(client, run.run_id, "model")
    _replace_model_and_fix_manifest(directory, cloudpickle.dumps(Tripwire(marker)))
    store = client.artifact_store(run.run_id)
    with pytest.raises(IntegrityError, match="recorded"):
        load_model(f"runs:/{run.run_id}/model", client=client, allow_pickle=True)
    # rewrite the store's own sidecar hash as well: the run tag (in the database) still disagrees
    sidecar = Path(store.root_uri.removeprefix("file://")) / ".mlops" / "sha256" / "model" / MANIFEST_FILE
    sidecar.write_text(sha256_bytes((directory / MANIFEST_FILE).read_bytes()))
    with pytest.raises(IntegrityError, match="recorded hash"):
        load_model(f"runs:/{run.run_id}/model", client=client, allow_pickle=True)
    assert not marker.exists()
    assert client.get_run(run.run_id).tags[MANIFEST_TAG_PREFIX + "model"]


def test_a_logged_model_with_a_flipped_byte_is_refused(client: Client) -> None:
    run = client.create_run(client.get_or_create_experiment("tamper").experiment_id)
    log_model_to_run(client, run.run_id, LogisticRegression().fit(X, Y), "model")
    _flip_byte(_model_dir(client, run.run_id, "model") / "model.skops")
    with pytest.raises(IntegrityError, match=r"model\.skops"):
        load_model(f"runs:/{run.run_id}/model", client=client)


# ------------------------------------------------------------------ skops trust policy
class Shifted(LogisticRegression):
    """A scikit-learn subclass from a module outside the trusted libraries."""


def test_untrusted_skops_types_are_refused_unless_named(tmp_path: Path) -> None:
    save_model(Shifted().fit(X, Y), tmp_path / "m")
    with pytest.raises(IntegrityError, match="trusted_types=") as err:
        load_model(str(tmp_path / "m"))
    name = f"{Shifted.__module__}.Shifted"
    assert name in str(err.value)
    loaded = load_model(str(tmp_path / "m"), trusted_types=[name])
    assert loaded.predict(X).tolist() == Shifted().fit(X, Y).predict(X).tolist()


def test_denied_numpy_submodules_are_not_trusted() -> None:
    from mlops.models.serialization import trusted_policy

    with pytest.raises(IntegrityError, match=r"numpy\.f2py"):
        trusted_policy(["numpy.f2py.compile"])
    assert trusted_policy(["numpy.ndarray", "scipy.sparse._csr.csr_matrix", "builtins.int"])


def test_birch_needs_pickle_with_a_clear_error(tmp_path: Path) -> None:
    from sklearn.cluster import Birch

    model = Birch(n_clusters=2).fit(X)
    with pytest.raises(InvalidInputError, match="serialization='pickle'"):
        save_model(model, tmp_path / "b")
    assert not (tmp_path / "b").exists()  # no partial directory, no silent fallback
    save_model(model, tmp_path / "b", serialization="joblib")
    with pytest.raises(IntegrityError, match="allow_pickle=True"):
        load_model(str(tmp_path / "b"))
    assert load_model(str(tmp_path / "b"), allow_pickle=True).predict(X).tolist() == model.predict(X).tolist()
