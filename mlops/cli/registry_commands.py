"""``models`` and ``report`` subcommands."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from mlops.cli.output import render

__all__ = ["add"]


def add(commands: Any) -> None:
    """Register the registry subcommands on an argparse subparsers object."""
    models = commands.add_parser("models", help="the model registry: versions, stages, aliases, approvals")
    models.add_argument("--user", help="who acts (default: MLOPS_USER or the login name)")
    sub = models.add_subparsers(dest="models_command", metavar="ACTION")
    sub.required = True
    lst = sub.add_parser("list", help="registered models")
    lst.add_argument("--name-like", help="SQL LIKE pattern, e.g. 'credit%%'")
    lst.set_defaults(handler=_list)
    versions = sub.add_parser("versions", help="versions of a model")
    versions.add_argument("name")
    versions.set_defaults(handler=_versions)
    transition = sub.add_parser("transition", help="move a version to a stage (the policy is enforced)")
    transition.add_argument("name")
    transition.add_argument("version")
    transition.add_argument("stage", help="None, Staging, Production or Archived")
    transition.add_argument("--archive-existing", action="store_true")
    transition.add_argument("--comment")
    transition.set_defaults(handler=_transition)
    alias = sub.add_parser("alias", help="point an alias at a version (or --delete it)")
    alias.add_argument("name")
    alias.add_argument("alias")
    alias.add_argument("version", nargs="?")
    alias.add_argument("--delete", action="store_true")
    alias.set_defaults(handler=_alias)
    for action in ("request", "approve", "reject"):
        p = sub.add_parser(
            action,
            help={
                "request": "ask for approval",
                "approve": "approve the open request",
                "reject": "reject the open request",
            }[action]
            + " of a version for a stage",
        )
        p.add_argument("name")
        p.add_argument("version")
        p.add_argument("stage")
        p.add_argument("--comment")
        p.set_defaults(handler=_approval, action=action)
    events = sub.add_parser("events", help="a model's audit log (verified)")
    events.add_argument("name")
    events.set_defaults(handler=_events)

    report = commands.add_parser("report", help="write (or open) the bias report attached to a model version")
    report.add_argument("name")
    report.add_argument("version")
    report.add_argument("--out", help="where to write the HTML (default: ./<name>-v<version>-bias.html)")
    report.add_argument("--open", action="store_true", help="open it in the browser")
    report.set_defaults(handler=_report)


def _registry(args: argparse.Namespace) -> Any:
    from mlops.registry.client import RegistryClient

    return RegistryClient(args.tracking_uri, user=getattr(args, "user", None))


def _version_row(v: Any) -> dict[str, Any]:
    return {
        "name": v.name,
        "version": v.version,
        "stage": v.stage,
        "aliases": ",".join(v.aliases),
        "run_id": v.run_id or "",
        "source": v.source,
    }


def _list(args: argparse.Namespace) -> int:
    reg = _registry(args)
    rows = [
        {
            "name": m.name,
            "description": m.description,
            "aliases": ",".join(f"{a}=v{n}" for a, n in sorted(m.aliases.items())),
        }
        for m in reg.search_registered_models(args.name_like)
    ]
    print(render(rows, as_json=args.json))
    return 0


def _versions(args: argparse.Namespace) -> int:
    reg = _registry(args)
    print(render([_version_row(v) for v in reg.search_model_versions(args.name)], as_json=args.json))
    return 0


def _transition(args: argparse.Namespace) -> int:
    reg = _registry(args)
    moved = reg.transition_stage(
        args.name, args.version, args.stage, archive_existing=args.archive_existing, comment=args.comment
    )
    print(render(_version_row(moved), as_json=args.json))
    return 0


def _alias(args: argparse.Namespace) -> int:
    from mlops.errors import InvalidInputError

    reg = _registry(args)
    if args.delete:
        reg.delete_alias(args.name, args.alias)
        print(f"removed alias {args.alias!r} of {args.name!r}")
        return 0
    if args.version is None:
        raise InvalidInputError("give the version the alias should point at, or --delete")
    reg.set_alias(args.name, args.alias, args.version)
    print(f"{args.name}@{args.alias} -> version {args.version}")
    return 0


def _approval(args: argparse.Namespace) -> int:
    reg = _registry(args)
    call = {"request": reg.request_approval, "approve": reg.approve, "reject": reg.reject}[args.action]
    state = call(args.name, args.version, args.stage, comment=args.comment)
    print(
        render(state, as_json=True)
        if args.json
        else f"{args.name} v{args.version} -> {args.stage}: {state.status}"
    )
    return 0


def _events(args: argparse.Namespace) -> int:
    reg = _registry(args)
    reg.verify_events(args.name)  # refuse to show a log that was tampered with
    rows = [
        {
            "seq": e.seq,
            "time": _iso(e.timestamp),
            "user": e.user_id,
            "action": e.action,
            "version": e.version,
            "old": e.old_value,
            "new": e.new_value,
            "comment": e.comment,
        }
        for e in reg.events(args.name)
    ]
    print(render(rows, as_json=args.json))
    return 0


def _iso(ms: int) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def _report(args: argparse.Namespace) -> int:
    from mlops.errors import NotFoundError
    from mlops.tracking.client import Client

    reg = _registry(args)
    ref = reg.lineage(args.name, args.version).reports.get("bias")
    if ref is None:
        raise NotFoundError(f"model {args.name!r} version {args.version} has no bias report attached")
    html = _read_uri(Client(args.tracking_uri), ref.uri)
    out = Path(args.out or f"{args.name}-v{args.version}-bias.html")
    out.write_bytes(html)
    passed = {True: "passes", False: "fails", None: "has no verdict"}[ref.passed]
    print(f"bias report of {args.name} v{args.version} ({passed}) written to {out.resolve()}")
    if args.open:
        import webbrowser

        webbrowser.open(out.resolve().as_uri())
    return 0


def _read_uri(client: Any, uri: str) -> bytes:
    """Bytes of ``runs:/<run_id>/<path>`` (a run artifact) or any fsspec URL / local path."""
    if uri.startswith("runs:/"):
        run_id, _, path = uri[len("runs:/") :].partition("/")
        data: bytes = client.artifact_store(run_id).get_bytes(path)
        return data
    import fsspec

    with fsspec.open(uri, "rb") as f:
        return bytes(f.read())
