"""Facts about where a run was started: user, source file, git commit and whether the tree was dirty.

They become system tags of the run (``mlops.user``, ``mlops.source.name``, ``mlops.source.git.commit``,
``mlops.source.git.dirty``, ``mlops.source.git.branch``). Git is asked through the ``git`` command;
outside a checkout, or without git, the git tags are simply absent.
"""

from __future__ import annotations

import functools
import getpass
import os
import subprocess
import sys
from pathlib import Path

__all__ = ["current_user", "source_tags"]

TAG_USER = "mlops.user"
TAG_SOURCE = "mlops.source.name"
TAG_GIT_COMMIT = "mlops.source.git.commit"
TAG_GIT_DIRTY = "mlops.source.git.dirty"
TAG_GIT_BRANCH = "mlops.source.git.branch"


def current_user() -> str:
    """The user running this process (``MLOPS_USER`` overrides it).

    Example:
        >>> isinstance(current_user(), str)
        True
    """
    override = os.environ.get("MLOPS_USER")
    if override:
        return override
    names = tuple(os.environ.get(name) for name in _LOGIN_VARIABLES)
    return _login_name(names, os.getuid() if hasattr(os, "getuid") else -1)


_LOGIN_VARIABLES = ("LOGNAME", "USER", "LNAME", "USERNAME")  # what getpass.getuser() reads first


@functools.lru_cache(maxsize=8)
def _login_name(variables: tuple[str | None, ...], uid: int) -> str:
    """``getpass.getuser()`` for these login variables and user id: without the variables it reads
    the password database, ~30 µs a call, so each combination is looked up once per process."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers) and no USER variable
        return "unknown"


@functools.lru_cache(maxsize=8)
def _resolved(path: str, cwd: str) -> Path:
    """``path`` made absolute (resolving walks every component: once per process is enough)."""
    return (Path(cwd) / path).resolve()


def _git(args: list[str], cwd: Path) -> str | None:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


@functools.lru_cache(maxsize=8)
def _git_facts(directory: Path) -> tuple[tuple[str, str], ...]:
    commit = _git(["rev-parse", "HEAD"], directory)
    if commit is None:
        return ()
    facts = [(TAG_GIT_COMMIT, commit)]
    status = _git(["status", "--porcelain", "--untracked-files=no"], directory)
    if status is not None:
        facts.append((TAG_GIT_DIRTY, "true" if status else "false"))
    branch = _git(["rev-parse", "--abbrev-ref", "HEAD"], directory)
    if branch and branch != "HEAD":
        facts.append((TAG_GIT_BRANCH, branch))
    return tuple(facts)


def source_tags() -> dict[str, str]:
    """System tags describing the code that started the run.

    The git facts are computed once per process and directory (a git call costs milliseconds).

    Example:
        >>> "mlops.user" in source_tags()
        True
    """
    main = getattr(sys.modules.get("__main__"), "__file__", None)
    return {TAG_USER: current_user(), **_code_tags(main or None, os.getcwd())}


@functools.lru_cache(maxsize=8)
def _code_tags(main_file: str | None, cwd: str) -> dict[str, str]:
    """The source and git tags for this entry-point file and working directory (once per process:
    resolving the path and hashing it cost ~20 µs per run). Read-only: callers copy it."""
    tags: dict[str, str] = {}
    entry = _resolved(main_file, cwd) if main_file else None
    if entry is not None:
        tags[TAG_SOURCE] = str(entry)
    directory = entry.parent if entry is not None else Path(cwd)
    tags.update(_git_facts(directory))
    return tags
