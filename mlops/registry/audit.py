"""The audit log read back: verify its hash chain, and reconstruct the registry as it was at a time.

Every change to a registered model appends one :class:`~mlops.entities.Event` (the store does it in
the same transaction as the change). Events are hash-chained: ``hash`` is the SHA-256 of the event's
fields and of ``prev_hash``, the previous event's hash, so editing, inserting or removing a stored
event breaks the chain at that point. :func:`verify_events` finds the first break.

:func:`snapshot_at` replays the log up to a time and answers "which version was in Production, and
where did ``champion`` point, at time T".

Example:
    >>> from mlops.entities import Event
    >>> e1 = Event(1, "m", "model_created", 10, "ann", new_value="m")
    >>> e1 = Event(**{**e1.payload(), "hash": e1.compute_hash()})
    >>> verify_chain("m", [e1])
    1
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from mlops.entities import Event
from mlops.errors import IntegrityError, InvalidInputError

__all__ = ["RegistrySnapshot", "snapshot_at", "to_epoch_ms", "verify_chain"]


def verify_chain(name: str, events: Iterable[Event]) -> int:
    """Check a model's events: ``seq`` 1, 2, 3, … without gaps, each ``prev_hash`` equal to the previous
    event's ``hash``, and each ``hash`` equal to the recomputed one. Return how many were checked.

    Raises:
        IntegrityError: naming the first event (by ``seq``) that fails, and why.

    Example:
        >>> bad = Event(1, "m", "model_created", 10, "ann", new_value="m", hash="0" * 64)
        >>> verify_chain("m", [bad])
        Traceback (most recent call last):
        ...
        mlops.errors.IntegrityError: audit log of model 'm' is corrupt at event seq 1 (model_created): ...
    """
    prev_hash = ""
    count = 0
    for expected_seq, event in enumerate(events, start=1):

        def fail(why: str, e: Event = event) -> IntegrityError:
            return IntegrityError(
                f"audit log of model {name!r} is corrupt at event seq {e.seq} ({e.action}): {why}"
            )

        if event.seq != expected_seq:
            raise fail(f"expected seq {expected_seq} (an event is missing or out of order)")
        if event.prev_hash != prev_hash:
            raise fail(
                "its prev_hash does not match the previous event's hash (an event was changed, "
                "inserted or removed before it)"
            )
        recomputed = event.compute_hash()
        if event.hash != recomputed:
            raise fail(f"its stored hash {event.hash[:12]}… does not match its content ({recomputed[:12]}…)")
        prev_hash = event.hash
        count += 1
    return count


def to_epoch_ms(at: int | float | dt.datetime) -> int:
    """A time as epoch milliseconds: an ``int`` is taken as milliseconds, a naive ``datetime`` as local.

    Raises:
        InvalidInputError: neither a number nor a datetime.

    Example:
        >>> to_epoch_ms(dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc))
        1704067200000
    """
    if isinstance(at, dt.datetime):
        return int(at.timestamp() * 1000)
    if isinstance(at, bool) or not isinstance(at, int | float):
        raise InvalidInputError(f"a time must be epoch milliseconds or a datetime, not {at!r}")
    return int(at)


@dataclass(frozen=True)
class RegistrySnapshot:
    """A model as it was at time ``at`` (epoch ms), replayed from its audit log.

    ``versions`` maps each version that existed to its stage; ``aliases`` maps alias → version;
    ``exists`` is False before the model was created or after it was deleted; ``last_seq`` is the
    last event replayed.
    """

    name: str
    at: int
    exists: bool
    versions: Mapping[int, str] = field(default_factory=dict)
    aliases: Mapping[str, int] = field(default_factory=dict)
    last_seq: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "versions", MappingProxyType(dict(self.versions)))
        object.__setattr__(self, "aliases", MappingProxyType(dict(self.aliases)))

    def in_stage(self, stage: str) -> list[int]:
        """The versions that were in ``stage``, ascending.

        Example:
            >>> RegistrySnapshot("m", 0, True, {1: "Archived", 2: "Production"}).in_stage("Production")
            [2]
        """
        return sorted(v for v, s in self.versions.items() if s == stage)


def _alias_pair(text: str | None) -> tuple[str, int] | None:
    if not text:
        return None
    alias, _, version = text.rpartition("=")
    return (alias, int(version)) if alias and version.isdigit() else None


def snapshot_at(name: str, events: Iterable[Event], at: int) -> RegistrySnapshot:
    """Replay ``events`` whose timestamp is at most ``at`` (epoch ms).

    Example:
        >>> log = [Event(1, "m", "model_created", 10, "u", new_value="m"),
        ...        Event(2, "m", "version_created", 20, "u", version=1, new_value="s3://b/m"),
        ...        Event(3, "m", "version_stage_changed", 30, "u", version=1, old_value="None",
        ...              new_value="Production")]
        >>> snapshot_at("m", log, 25).versions
        mappingproxy({1: 'None'})
        >>> snapshot_at("m", log, 30).in_stage("Production")
        [1]
    """
    current, exists, last_seq = name, False, 0
    versions: dict[int, str] = {}
    aliases: dict[str, int] = {}
    for e in events:
        if e.timestamp > at:
            break
        last_seq = e.seq
        if e.action == "model_created":
            current, exists = e.new_value or name, True
        elif e.action == "model_renamed":
            current = e.new_value or current
        elif e.action == "model_deleted":
            exists = False
            versions.clear()
            aliases.clear()
        elif e.action == "version_created" and e.version is not None:
            versions[e.version] = "None"
        elif e.action == "version_stage_changed" and e.version is not None and e.new_value:
            versions[e.version] = e.new_value
        elif e.action == "version_deleted" and e.version is not None:
            versions.pop(e.version, None)
            for alias in [a for a, v in aliases.items() if v == e.version]:
                del aliases[alias]  # the store drops a deleted version's aliases with it
        elif e.action == "alias_set":
            pair = _alias_pair(e.new_value)
            if pair is not None:
                aliases[pair[0]] = pair[1]
        elif e.action == "alias_deleted":
            pair = _alias_pair(e.old_value)
            if pair is not None:
                aliases.pop(pair[0], None)
    return RegistrySnapshot(
        name=current, at=at, exists=exists, versions=versions, aliases=aliases, last_seq=last_seq
    )
