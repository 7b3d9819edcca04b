"""Shared pytest fixtures: real S3/GCS/PostgreSQL servers and every store implementation."""

from _metadata_stores import *  # noqa: F403
from _object_servers import *  # noqa: F403
from _pg_server import *  # noqa: F403
