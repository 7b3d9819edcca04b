"""The SQL schema of the metadata store, as SQLAlchemy 2 typed models.

This module is the single description of the tables; Alembic migrations in ``migrations/versions``
create exactly this schema (``tests/test_sql_migrations.py`` checks that they agree).

Floats: a metric value is stored as ``value`` (NULL when NaN) plus ``is_nan``. SQLite turns NaN
into NULL on its own, so this encoding makes every backend keep NaN, ±inf and -0.0 the same way.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "Base",
    "SqlAlias",
    "SqlApproval",
    "SqlDatasetInput",
    "SqlEvent",
    "SqlExperiment",
    "SqlExperimentTag",
    "SqlLatestMetric",
    "SqlMetricChunk",
    "SqlModelVersion",
    "SqlModelVersionTag",
    "SqlParam",
    "SqlRegisteredModel",
    "SqlRegisteredModelTag",
    "SqlRun",
    "SqlTag",
]

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

KEY_LEN = 250
NOT_ON_SQLITE = {"not_on_sqlite": True}  # Index.info marker: migrations create it on other databases only
NAME_LEN = 256


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


# ----------------------------------------------------------------------------- tracking
class SqlExperiment(Base):
    __tablename__ = "experiments"
    experiment_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LEN), unique=True)
    artifact_location: Mapped[str] = mapped_column(Text)
    lifecycle_stage: Mapped[str] = mapped_column(String(16))
    creation_time: Mapped[int] = mapped_column(BigInteger)
    last_update_time: Mapped[int] = mapped_column(BigInteger)


class SqlExperimentTag(Base):
    __tablename__ = "experiment_tags"
    experiment_id: Mapped[str] = mapped_column(
        ForeignKey("experiments.experiment_id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(KEY_LEN), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class SqlRun(Base):
    __tablename__ = "runs"
    # The compact integer key of everything that belongs to a run (metric history, latest metrics,
    # params, tags): indexing a 32-character run id in every point made appends about 1.5x slower.
    # ``run_id`` is the public id; only the runs table holds it.
    run_num: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(String(32), unique=True)
    # searched through ix_runs_experiment_start (its leading column): no index of its own
    experiment_id: Mapped[str] = mapped_column(ForeignKey("experiments.experiment_id", ondelete="CASCADE"))
    run_name: Mapped[str] = mapped_column(String(NAME_LEN))
    status: Mapped[str] = mapped_column(String(16))
    start_time: Mapped[int] = mapped_column(BigInteger)
    end_time: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    lifecycle_stage: Mapped[str] = mapped_column(String(16))
    artifact_uri: Mapped[str] = mapped_column(Text)
    user_id: Mapped[str] = mapped_column(String(NAME_LEN))
    parent_run_id: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    heartbeat_time: Mapped[int | None] = mapped_column(BigInteger, nullable=True)

    __table_args__ = (Index("ix_runs_experiment_start", "experiment_id", "start_time"),)


# Params, tags and latest metrics are keyed by the run's integer ``run_num`` (schema revision 0002):
# 8-byte keys instead of 32-character ids in every row and index entry, and on SQLite the rows of
# one run sit together in the primary key's b-tree (WITHOUT ROWID), so writing or reading a run's
# values touches one page instead of a table page plus a separate primary-key index page.
#
# A filter such as ``params.C = '1'`` is one primary-key probe per run of the searched experiments
# (``search.py``). SQLite has no (key, value) index on these tables: such an index takes a page per
# key in every transaction that writes values (a run's params land on ten pages, not one), which
# halved the rate at which runs could be created, for filters that are already ~1 µs per run.
_CLUSTERED = {"sqlite_with_rowid": False}


class SqlParam(Base):
    __tablename__ = "params"
    run_num: Mapped[int] = mapped_column(ForeignKey("runs.run_num", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(KEY_LEN), primary_key=True)
    value: Mapped[str] = mapped_column(Text)

    __table_args__ = (_CLUSTERED,)


class SqlTag(Base):
    __tablename__ = "tags"
    run_num: Mapped[int] = mapped_column(ForeignKey("runs.run_num", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(KEY_LEN), primary_key=True)
    value: Mapped[str] = mapped_column(Text)

    __table_args__ = (_CLUSTERED,)


class SqlMetricChunk(Base):
    """The full history of a run's metric, in chunks: one row per key per write of points.

    ``step_bytes``, ``timestamp_bytes`` and ``value_bytes`` hold ``points`` little-endian int64,
    int64 and IEEE 754 float64 values (NaN and ±inf as they are); ``id`` orders the chunks as they
    were written. See ``metric_rows.py``.
    """

    __tablename__ = "metric_chunks"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_num: Mapped[int] = mapped_column(ForeignKey("runs.run_num", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(KEY_LEN))
    points: Mapped[int] = mapped_column(Integer)
    step_bytes: Mapped[bytes] = mapped_column(LargeBinary)
    timestamp_bytes: Mapped[bytes] = mapped_column(LargeBinary)
    value_bytes: Mapped[bytes] = mapped_column(LargeBinary)

    __table_args__ = (Index("ix_metric_chunks_run_key", "run_num", "key"),)


class SqlLatestMetric(Base):
    """The latest point per (run, key): highest step, then latest timestamp. Searched by filters."""

    __tablename__ = "latest_metrics"
    run_num: Mapped[int] = mapped_column(ForeignKey("runs.run_num", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(KEY_LEN), primary_key=True)
    step: Mapped[int] = mapped_column(BigInteger)
    timestamp: Mapped[int] = mapped_column(BigInteger)
    value: Mapped[float | None] = mapped_column(Float(precision=53), nullable=True)
    is_nan: Mapped[bool] = mapped_column(Boolean)
    # The value's 8 IEEE 754 bytes, little-endian (NaN too): a search reads many runs' values as one
    # concatenated blob instead of one driver row each. Nullable: rows written without it are read
    # the slow way (see run_table.py).
    value_bits: Mapped[bytes | None] = mapped_column(LargeBinary(8), nullable=True)

    # For metric filters on databases whose planners use it (a covering range scan on PostgreSQL).
    __table_args__ = (
        Index("ix_latest_metrics_key_value_run", "key", "value", "run_num", info=NOT_ON_SQLITE),
        _CLUSTERED,
    )


class SqlDatasetInput(Base):
    __tablename__ = "dataset_inputs"
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.run_id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LEN), primary_key=True)
    digest: Mapped[str] = mapped_column(String(128), primary_key=True)
    context: Mapped[str] = mapped_column(String(64), primary_key=True)
    source: Mapped[str] = mapped_column(Text)
    schema: Mapped[str] = mapped_column(Text)
    num_rows: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    position: Mapped[int] = mapped_column(Integer)


# ----------------------------------------------------------------------------- registry
class SqlRegisteredModel(Base):
    __tablename__ = "registered_models"
    model_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(NAME_LEN))
    # 0 while the model is live; its own model_id once deleted. Deleted models keep their row (their
    # events refer to it), and (name, deleted_id) being unique lets a new model take the name.
    deleted_id: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(Text)
    policy: Mapped[str] = mapped_column(Text)  # JSON document
    creation_time: Mapped[int] = mapped_column(BigInteger)
    last_updated_time: Mapped[int] = mapped_column(BigInteger)
    next_version: Mapped[int] = mapped_column(Integer)
    event_seq: Mapped[int] = mapped_column(Integer)  # seq of the latest event (0: none)
    event_hash: Mapped[str] = mapped_column(String(64))  # hash of the latest event

    __table_args__ = (UniqueConstraint("name", "deleted_id"),)


class SqlRegisteredModelTag(Base):
    __tablename__ = "registered_model_tags"
    model_id: Mapped[int] = mapped_column(
        ForeignKey("registered_models.model_id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(KEY_LEN), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class SqlModelVersion(Base):
    __tablename__ = "model_versions"
    model_id: Mapped[int] = mapped_column(
        ForeignKey("registered_models.model_id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(Text)
    run_id: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    stage: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(Text)
    user_id: Mapped[str] = mapped_column(String(NAME_LEN))
    creation_time: Mapped[int] = mapped_column(BigInteger)
    last_updated_time: Mapped[int] = mapped_column(BigInteger)


class SqlModelVersionTag(Base):
    __tablename__ = "model_version_tags"
    model_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(KEY_LEN), primary_key=True)
    value: Mapped[str] = mapped_column(Text)

    __table_args__ = (
        ForeignKeyConstraint(
            ["model_id", "version"],
            ["model_versions.model_id", "model_versions.version"],
            ondelete="CASCADE",
        ),
    )


class SqlAlias(Base):
    __tablename__ = "model_aliases"
    model_id: Mapped[int] = mapped_column(
        ForeignKey("registered_models.model_id", ondelete="CASCADE"), primary_key=True
    )
    alias: Mapped[str] = mapped_column(String(KEY_LEN), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        ForeignKeyConstraint(
            ["model_id", "version"],
            ["model_versions.model_id", "model_versions.version"],
            ondelete="CASCADE",
        ),
    )


class SqlApproval(Base):
    __tablename__ = "approvals"
    approval_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    model_id: Mapped[int] = mapped_column(
        ForeignKey("registered_models.model_id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int] = mapped_column(Integer)
    stage: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[str] = mapped_column(String(NAME_LEN))
    timestamp: Mapped[int] = mapped_column(BigInteger)
    comment: Mapped[str] = mapped_column(Text)


class SqlEvent(Base):
    """The audit log. Rows are only ever inserted; (model_id, seq) is unique and gap-free."""

    __tablename__ = "events"
    model_id: Mapped[int] = mapped_column(
        ForeignKey("registered_models.model_id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LEN))
    action: Mapped[str] = mapped_column(String(32))
    timestamp: Mapped[int] = mapped_column(BigInteger)
    user_id: Mapped[str] = mapped_column(String(NAME_LEN))
    version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    old_value: Mapped[str | None] = mapped_column(Text, nullable=True)
    new_value: Mapped[str | None] = mapped_column(Text, nullable=True)
    comment: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
