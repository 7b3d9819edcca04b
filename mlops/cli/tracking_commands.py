"""``experiments``, ``runs`` and ``gc`` subcommands."""

from __future__ import annotations

import argparse
from typing import Any

from mlops.cli.output import render

__all__ = ["add"]


def add(commands: Any) -> None:
    """Register the tracking subcommands on an argparse subparsers object."""
    exps = commands.add_parser("experiments", help="list experiments")
    exps.add_argument("--view", choices=["active", "deleted", "all"], default="active")
    exps.set_defaults(handler=_experiments)

    runs = commands.add_parser("runs", help="list, show, compare and search runs")
    sub = runs.add_subparsers(dest="runs_command", metavar="ACTION")
    sub.required = True
    for name, help_text in (
        ("list", "runs of experiments, newest first"),
        ("search", "runs matching a filter"),
    ):
        p = sub.add_parser(name, help=help_text)
        p.add_argument(
            "--experiment", "-e", action="append", help="experiment name (repeatable; default: all)"
        )
        p.add_argument("--filter", "-f", default="", help="e.g. \"metrics.auc > 0.8 and params.C = '0.1'\"")
        p.add_argument("--order-by", "-o", action="append", default=[], help="e.g. 'metrics.auc DESC'")
        p.add_argument("--max-results", "-n", type=int, default=50)
        p.add_argument("--columns", "-c", help="comma-separated columns to show (default: a summary)")
        p.set_defaults(handler=_runs_list)
    show = sub.add_parser("show", help="one run with its params, metrics, tags and inputs")
    show.add_argument("run_id")
    show.set_defaults(handler=_runs_show)
    compare = sub.add_parser("compare", help="params and metrics of runs side by side")
    compare.add_argument("run_ids", nargs="+")
    compare.set_defaults(handler=_runs_compare)

    gc = commands.add_parser("gc", help="mark dead runs KILLED; remove permanently deleted data")
    gc.add_argument(
        "--stale-after", type=float, default=60.0, help="seconds without a heartbeat (default 60)"
    )
    gc.add_argument(
        "--purge-deleted",
        action="store_true",
        help="permanently remove deleted runs and experiments, with their artifacts",
    )
    gc.set_defaults(handler=_gc)


def _client(args: argparse.Namespace) -> Any:
    from mlops.tracking.client import Client

    return Client(args.tracking_uri)


def _experiments(args: argparse.Namespace) -> int:
    client = _client(args)
    rows = [
        {
            "experiment_id": e.experiment_id,
            "name": e.name,
            "stage": e.lifecycle_stage,
            "artifact_location": e.artifact_location,
        }
        for e in client.search_experiments(args.view)
    ]
    print(render(rows, as_json=args.json))
    return 0


def _runs_list(args: argparse.Namespace) -> int:
    from mlops.errors import NotFoundError

    client = _client(args)
    ids = None
    if args.experiment:
        found = [client.get_experiment_by_name(n) for n in args.experiment]
        missing = [n for n, e in zip(args.experiment, found, strict=True) if e is None]
        if missing:
            raise NotFoundError(f"no experiment named {', '.join(map(repr, missing))}")
        ids = [e.experiment_id for e in found if e is not None]
    frame = client.search_runs(ids, args.filter, order_by=args.order_by, max_results=args.max_results)
    if args.columns:
        columns = [c.strip() for c in args.columns.split(",")]
    else:
        metric_columns = [c for c in frame.columns if c.startswith("metrics.")][:6]
        columns = ["run_id", "run_name", "status", "start_time", *metric_columns]
    columns = [c for c in columns if c in frame.columns]
    rows = frame[columns].to_dict(orient="records") if len(frame) else []
    print(render(rows, as_json=args.json))
    return 0


def _runs_show(args: argparse.Namespace) -> int:
    run = _client(args).get_run(args.run_id)
    if args.json:
        print(render(_run_dict(run), as_json=True))
        return 0
    print(render({k: v for k, v in _run_dict(run).items() if not isinstance(v, (dict, list))}, as_json=False))
    for title in ("params", "metrics", "tags"):
        values = getattr(run, title)
        if values:
            print(f"\n{title}:")
            print(render(dict(sorted(values.items())), as_json=False))
    if run.inputs:
        print("\ninputs:")
        print(
            render(
                [
                    {
                        "name": d.name,
                        "context": d.context,
                        "rows": d.num_rows,
                        "digest": d.digest[:12],
                        "source": d.source,
                    }
                    for d in run.inputs
                ],
                as_json=False,
            )
        )
    return 0


def _run_dict(run: Any) -> dict[str, Any]:
    from mlops.cli.output import jsonable

    data: dict[str, Any] = jsonable(run)
    return data


def _runs_compare(args: argparse.Namespace) -> int:
    frame = _client(args).compare_runs(args.run_ids)
    if args.json:
        print(render(frame.to_dict(orient="index"), as_json=True))
    else:
        print(frame.to_string() if len(frame) else "(nothing to compare)")
    return 0


def _gc(args: argparse.Namespace) -> int:
    client = _client(args)
    killed = client.mark_dead_runs(stale_after_s=args.stale_after)
    purged_runs: list[str] = []
    purged_experiments: list[str] = []
    if args.purge_deleted:
        for exp in client.search_experiments("all"):
            for run in client.search_runs([exp.experiment_id], view="deleted", output_format="list"):
                _delete_artifacts(client, run.run_id)
                client.purge_run(run.run_id)
                purged_runs.append(run.run_id)
            if exp.lifecycle_stage == "deleted":
                for run in client.search_runs([exp.experiment_id], view="all", output_format="list"):
                    _delete_artifacts(client, run.run_id)
                client.purge_experiment(exp.experiment_id)
                purged_experiments.append(exp.experiment_id)
    summary = {
        "runs_marked_killed": killed,
        "runs_purged": purged_runs,
        "experiments_purged": purged_experiments,
    }
    if args.json:
        print(render(summary, as_json=True))
    else:
        print(
            f"marked {len(killed)} dead run(s) KILLED; purged {len(purged_runs)} deleted run(s) and "
            f"{len(purged_experiments)} deleted experiment(s)"
        )
    return 0


def _delete_artifacts(client: Any, run_id: str) -> None:
    store = client.artifact_store(run_id)
    for item in store.list():
        store.delete(item.path)
