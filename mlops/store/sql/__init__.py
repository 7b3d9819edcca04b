"""The SQLAlchemy metadata store: SQLite (default), PostgreSQL and any SQLAlchemy URL."""
