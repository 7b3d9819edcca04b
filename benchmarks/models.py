"""Models benchmark W5c (see ``../shared/docs/BENCHMARKS.md``): cold start of a logged model.

Run from the repository root::

    python -m benchmarks.models            # W5c, 5 repeats, one JSON line
    python -m benchmarks.models --repeat 9

W5c: a new process imports ``mlops``, loads a ``LogisticRegression(max_iter=200)`` fitted on
``make_classification(20000, 20, random_state=0)`` and makes its first prediction, twice over: from its
run (``runs:/<run_id>/model``) and through the registry (``models:/w5c@champion``, the table's "load
model from registry"); SQLite + local artifacts, skops with the integrity checks and the trusted-types
policy. The model is logged, registered and aliased once, by a separate setup child, so no measured
process has written anything.

Figures, each the median of ``--repeat`` fresh processes, run interleaved so that a change in the
machine's load touches every figure alike:

* ``wall_s``: the whole child process, interpreter start and exit included, measured by the parent;
  ``to_first_prediction_s``: from the parent's launch to the moment the child has its first prediction
  (interpreter exit, which a server never reaches, left out). ``cpu_s``: the child's user + system CPU
  time, which a busy shared machine stretches much less than the wall time: compare it between runs
  made at different loads.
* ``phases``: where the child's time goes. ``import_mlops``; ``resolve`` (URI to store: the registry for
  ``models:/``, the tracking store, the run, its artifact store, the manifest read and checked against
  the store and the run tag); ``verify`` (every file re-hashed); ``import_sklearn`` (the estimator's
  module, ``sklearn.linear_model``); ``import_skops`` (``skops.io``, which runs scikit-learn's
  ``all_estimators()`` at import); ``deserialize`` (the trusted-types audit and skops' load);
  ``other`` (the rest of ``load_model``); ``first_predict``. In wall time (``phases_s``) and in CPU
  time (``phases_cpu_s``). The child times ``mlops``'s own loading steps by wrapping them
  (microseconds of overhead), and imports ``sklearn.linear_model`` just before ``skops.io`` would, so
  the two imports are told apart; ``skops.io`` imports it anyway.
* ``floors``: fresh processes that do only ``pass``, ``import sklearn.linear_model`` (the class the
  model needs), ``import skops.io``, ``import mlops`` and ``import sqlalchemy.orm`` (what the SQLite
  store is built on).
* ``importtime_beyond_sklearn_linear_model_s``: one child run with ``-X importtime``; what the load
  path imports beyond ``import sklearn.linear_model``, self times summed per top-level package, in two
  parts: what ``import skops.io`` brings, and the rest (``mlops``, the store). Noisy by nature: one run.

Bytecode: this environment may set ``PYTHONDONTWRITEBYTECODE`` and ``mlops`` is an editable install, so
its modules would be compiled from source in every child, which an installed package never does. The
children therefore share a bytecode cache in the temporary folder (``PYTHONPYCACHEPREFIX``), filled by
one unmeasured warm-up of each kind of child. They run with ``python -P`` so that ``mlops`` comes from
``PYTHONPATH`` and never from the folder the benchmark was started in.

MLflow's figure (import 1.1 s + cold load 2.5 s) comes from the table in BENCHMARKS.md; it is measured
side by side only when ``mlflow`` is importable here (``MLOPS_BENCH_MLFLOW_PYTHON`` is not used yet).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from typing import Any

from benchmarks._harness import machine_info, run_child

__all__ = ["main", "run_w5c"]

MODULE = "benchmarks.models"
TARGET_S = 1.0
MLFLOW_REFERENCE_S = 3.6  # BENCHMARKS.md: import 1.1 s + cold load 2.5 s
MODEL_NAME, ALIAS = "w5c", "champion"
ESTIMATOR_MODULE = "sklearn.linear_model"
PHASES = (
    "import_mlops",
    "resolve",
    "verify",
    "import_sklearn",
    "import_skops",
    "deserialize",
    "other",
    "first_predict",
)
FLOORS = {
    "python -c pass": "pass",
    "import sklearn.linear_model": "import sklearn.linear_model",
    "import skops.io": "import skops.io",
    "import mlops": "import mlops",
    "import sqlalchemy.orm": "import sqlalchemy.orm",
}

# The measured process. Run with ``python -c`` so that it imports nothing but what loading needs (no
# ``benchmarks`` package, no argparse). argv: model URI, one input row as JSON.
COLD_CHILD = r"""
import json, sys, time


def now():  # wall and CPU seconds: a shared machine stretches the first, much less the second
    return (time.perf_counter(), time.process_time())


def since(start, end=None):
    end = end or now()
    return [end[0] - start[0], end[1] - start[1]]


t0 = now()
import mlops

t1 = now()
import mlops.models.loading as loading
import mlops.models.serialization as serialization

spent = {k: [0.0, 0.0] for k in ("resolve_models", "verify", "import_sklearn", "import_skops", "loads")}
marks = {}


def add(phase, start):
    for i, d in enumerate(since(start)):
        spent[phase][i] += d


def timed(module, name, phase, first_mark=None):
    inner = getattr(module, name)

    def wrapper(*args, **kwargs):
        start = now()
        if first_mark is not None:
            marks.setdefault(first_mark, start)
        try:
            return inner(*args, **kwargs)
        finally:
            add(phase, start)

    setattr(module, name, wrapper)


def skops_import():
    if "skops.io" not in sys.modules:
        start = now()
        __import__(sys.argv[3])
        add("import_sklearn", start)
    return skops_inner()


skops_inner = serialization._skops
timed(loading, "_resolve_models_uri", "resolve_models")
timed(loading, "verify_directory", "verify", first_mark="verify")
serialization._skops = skops_import
timed(serialization, "_skops", "import_skops")
timed(serialization, "loads", "loads")

t2 = now()
model = mlops.load_model(sys.argv[1])
t3 = now()
prediction = model.predict(json.loads(sys.argv[2]))
t4 = now()
stamp = time.time()
out = {"prediction": int(prediction[0]), "first_prediction_epoch": stamp}
for i, clock in enumerate(("wall", "cpu")):
    imports = spent["import_skops"][i]  # includes the import of sklearn.linear_model
    phases = {
        "import_mlops": since(t0, t1)[i],
        "resolve": since(t2, marks["verify"])[i],
        "verify": spent["verify"][i],
        "import_sklearn": spent["import_sklearn"][i],
        "import_skops": imports - spent["import_sklearn"][i],
        "deserialize": spent["loads"][i] - imports,
    }
    phases["other"] = since(t2, t3)[i] - sum(v for k, v in phases.items() if k != "import_mlops")
    phases["first_predict"] = since(t3, t4)[i]
    out[clock] = {"phases": phases, "load": since(t2, t3)[i], "resolve_models": spent["resolve_models"][i],
                  "to_first_prediction": t4[i] if clock == "cpu" else None}
print(json.dumps(out))
"""


def setup_child(root: str) -> None:
    """Log, register and alias the W5c model in a fresh store under ``root``; print its URIs as JSON.

    Loading it once through the registry checks the whole setup before anything is measured.
    """
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression

    import mlops

    X, y = make_classification(20_000, 20, random_state=0)
    client = mlops.Client(f"sqlite:///{root}/mlops.db", artifact_uri=f"{root}/artifacts")
    run = client.create_run(client.get_or_create_experiment("w5c").experiment_id)
    info = client.log_model(
        run.run_id, LogisticRegression(max_iter=200).fit(X, y), "model", input_example=X[:5]
    )
    client.end_run(run.run_id)
    version = client.registry.register_model(info.model_uri, MODEL_NAME)
    client.registry.set_alias(MODEL_NAME, ALIAS, version.version)
    models_uri = f"models:/{MODEL_NAME}@{ALIAS}"
    mlops.load_model(models_uri, client=client, registry_uri=client.tracking_uri).predict(X[:1])
    client.close()
    print(json.dumps({"runs_uri": info.model_uri, "models_uri": models_uri, "row": X[:1].tolist()}))


def _child_env(root: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(
        {
            "MLOPS_TRACKING_URI": f"sqlite:///{root}/mlops.db",
            "MLOPS_ARTIFACT_URI": f"{root}/artifacts",
            "PYTHONPYCACHEPREFIX": os.path.join(root, "pycache"),
            "PYTHONWARNINGS": "ignore",
        }
    )
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (repo, env.get("PYTHONPATH", "")) if p)
    return env


def _run_code(
    code: str, args: Sequence[str], env: Mapping[str, str], *, flags: Sequence[str] = ()
) -> dict[str, Any]:
    """Run ``python -P [flags] -c code *args``: wall and CPU time, launch stamp, last JSON line, stderr.

    ``-P``: without it ``-c`` puts the working directory first on ``sys.path``, and ``mlops`` must come
    from ``PYTHONPATH``, not from whatever folder the benchmark was started in.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    launched = time.time()
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-P", *flags, "-c", code, *args],
        capture_output=True,
        text=True,
        env=dict(env),
        check=False,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    result: dict[str, Any] = {"wall_s": wall, "cpu_s": cpu, "launched": launched, "stderr": out.stderr}
    lines = [line for line in out.stdout.strip().splitlines() if line.startswith("{")]
    if out.returncode != 0:
        tail = " | ".join(out.stderr.strip().splitlines()[-3:])
        result["error"] = f"exit code {out.returncode}: {tail}"
    elif lines:
        result["child"] = json.loads(lines[-1])
    return result


def _cold(uri: str, row: str, env: Mapping[str, str]) -> dict[str, Any]:
    result = _run_code(COLD_CHILD, [uri, row, ESTIMATOR_MODULE], env)
    if "error" in result:
        return result
    child = result["child"]
    return {
        "wall_s": result["wall_s"],
        "cpu_s": result["cpu_s"],
        "to_first_prediction_s": child["first_prediction_epoch"] - result["launched"],
        "cpu_to_first_prediction_s": child["cpu"]["to_first_prediction"],
        "load_s": child["wall"]["load"],
        "resolve_models_s": child["wall"]["resolve_models"],
        "resolve_models_cpu_s": child["cpu"]["resolve_models"],
        "phases": child["wall"]["phases"],
        "phases_cpu": child["cpu"]["phases"],
        "prediction": child["prediction"],
    }


def _median(values: Sequence[float], digits: int = 3) -> float:
    return round(statistics.median(values), digits)


def _summarize(samples: list[dict[str, Any]]) -> dict[str, Any]:
    phases = {p: _median([s["phases"][p] for s in samples], 4) for p in PHASES}
    phases_cpu = {p: _median([s["phases_cpu"][p] for s in samples], 4) for p in PHASES}
    return {
        "wall_s": _median([s["wall_s"] for s in samples]),
        "wall_min_s": round(min(s["wall_s"] for s in samples), 3),
        "to_first_prediction_s": _median([s["to_first_prediction_s"] for s in samples]),
        "load_s": _median([s["load_s"] for s in samples]),
        "phases_s": phases,
        "cpu_s": _median([s["cpu_s"] for s in samples]),
        "cpu_to_first_prediction_s": _median([s["cpu_to_first_prediction_s"] for s in samples]),
        "phases_cpu_s": phases_cpu,
        "prediction": samples[0]["prediction"],
    }


def _module_names(code: str, env: Mapping[str, str]) -> set[str]:
    """``sys.modules`` of a fresh process after it ran ``code``."""
    result = _run_code(
        code + "\nimport sys, json; print(json.dumps({'modules': sorted(sys.modules)}))", [], env
    )
    return set(result.get("child", {}).get("modules", []))


_IMPORTTIME = re.compile(r"import time:\s+(\d+) \|\s+\d+ \|( *)(\S+)")


def importtime_beyond(uri: str, row: str, env: Mapping[str, str], top: int = 8) -> dict[str, Any]:
    """One ``-X importtime`` cold child: what it imports beyond ``import sklearn.linear_model``.

    Self times (each module counted once) summed per top-level package, largest first, in two parts:
    what ``import skops.io`` brings (the child imports ``sklearn.linear_model`` before it, so this is
    skops' own cost), and everything else on the load path.
    """
    floor = _module_names(f"import {ESTIMATOR_MODULE}", env)
    result = _run_code(COLD_CHILD, [uri, row, ESTIMATOR_MODULE], env, flags=["-X", "importtime"])
    if "error" in result:
        return {"error": result["error"]}
    parts: dict[str, dict[str, list[float]]] = {"under_skops_io": {}, "rest": {}}
    subtree: list[tuple[str, float]] = []  # -X importtime prints a module after everything it imported
    for match in _IMPORTTIME.finditer(result["stderr"]):
        subtree.append((match.group(3), int(match.group(1)) / 1e6))
        if len(match.group(2)) > 1:  # nested: wait for its top-level import
            continue
        part = parts["under_skops_io" if match.group(3) == "skops.io" else "rest"]
        for name, seconds in subtree:
            if name not in floor:
                entry = part.setdefault(name.split(".")[0], [0.0, 0])
                entry[0] += seconds
                entry[1] += 1
        subtree = []
    return {name: _ranked(packages, top) for name, packages in parts.items()}


def _ranked(packages: Mapping[str, list[float]], top: int) -> dict[str, Any]:
    ranked = sorted(packages.items(), key=lambda kv: -kv[1][0])
    return {
        "s": round(sum(v[0] for v in packages.values()), 3),
        "modules": sum(int(v[1]) for v in packages.values()),
        "packages_s": {name: round(v[0], 3) for name, v in ranked[:top]},
    }


def run_w5c(repeat: int) -> dict[str, Any]:
    """Set up once, then ``repeat`` rounds of cold starts and floors, interleaved; medians."""
    with tempfile.TemporaryDirectory(prefix="mlops-w5c-") as root:
        env = _child_env(root)
        setup = run_child(MODULE, ["--setup", root], env=env)
        if "error" in setup:
            return {"workload": "W5c", "error": f"setup: {setup['error']}"}
        row = json.dumps(setup["row"])
        uris = {"runs": setup["runs_uri"], "models": setup["models_uri"]}
        for uri in uris.values():  # warm-up, unmeasured: the bytecode cache, the page cache
            warm = _cold(uri, row, env)
            if "error" in warm:
                return {"workload": "W5c", "error": f"{uri}: {warm['error']}"}
        for code in FLOORS.values():
            _run_code(code, [], env)
        samples: dict[str, list[dict[str, Any]]] = {kind: [] for kind in uris}
        floors: dict[str, list[dict[str, Any]]] = {name: [] for name in FLOORS}
        for _ in range(repeat):
            for kind, uri in uris.items():
                sample = _cold(uri, row, env)
                if "error" in sample:
                    return {"workload": "W5c", "error": f"{uri}: {sample['error']}"}
                samples[kind].append(sample)
            for name, code in FLOORS.items():
                floors[name].append(_run_code(code, [], env))
        importtime = importtime_beyond(uris["models"], row, env)
    runs, models = _summarize(samples["runs"]), _summarize(samples["models"])
    floor = {name: _median([r["wall_s"] for r in runs_]) for name, runs_ in floors.items()}
    floor_cpu = {name: _median([r["cpu_s"] for r in runs_]) for name, runs_ in floors.items()}
    wall = max(runs["wall_s"], models["wall_s"])
    return {
        "workload": "W5c",
        "what": (
            "new process: import mlops, load a logged LogisticRegression (runs:/ and models:/name@alias), "
            "first prediction"
        ),
        "runs": runs,
        "models": models,
        "registry_resolve_s": _median([s["resolve_models_s"] for s in samples["models"]]),
        "registry_resolve_cpu_s": _median([s["resolve_models_cpu_s"] for s in samples["models"]]),
        "floors_s": floor,
        "floors_cpu_s": floor_cpu,
        "importtime_beyond_sklearn_linear_model_s": importtime,
        "mlflow_s": None,
        "mlflow_reference_s": MLFLOW_REFERENCE_S,
        "target_s": TARGET_S,
        "met": wall <= TARGET_S,
        "summary": [
            _row("wall, runs:/ (s)", runs["wall_s"], f"<= {TARGET_S} s"),
            _row("wall, models:/@alias (s)", models["wall_s"], f"<= {TARGET_S} s"),
            _row("to first prediction, models:/@alias (s)", models["to_first_prediction_s"]),
            _row("CPU (user+sys), models:/@alias (s)", models["cpu_s"]),
            *(_row(f"floor: {name} (s)", value) for name, value in floor.items()),
        ],
        "repeats": repeat,
        "bytecode": "cached (PYTHONPYCACHEPREFIX in the temporary folder, warmed before measuring)",
        "machine": machine_info(),
    }


def _row(figure: str, value: float, target: str | None = None) -> dict[str, Any]:
    """A summary-table row; a figure without a target is shown for comparison.

    MLflow's 3.6 s is a reference from another day, not measured side by side, so no ratio is given.
    """
    return {
        "figure": figure,
        "mlops": value,
        "mlflow": None,
        "ratio": None,
        "target": target or "(for comparison)",
        "met": value <= TARGET_S if target else None,
    }


def main(argv: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Command line: ``python -m benchmarks.models [W5c] [--repeat N]``; prints one JSON line."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["--setup"]:
        setup_child(args[1])
        return []
    parser = argparse.ArgumentParser(prog="python -m benchmarks.models", description=__doc__.splitlines()[0])
    parser.add_argument("workloads", nargs="*", help="ids (default: W5c)")
    parser.add_argument("--repeat", type=int, default=5, help="cold starts; medians are reported")
    opts = parser.parse_args(args)
    unknown = [w for w in opts.workloads if w != "W5c"]
    if unknown:
        parser.error(f"unknown workload(s) {unknown}; choose from ['W5c']")
    line = run_w5c(opts.repeat)
    print(json.dumps(line), flush=True)
    return [line]


if __name__ == "__main__":
    main()
