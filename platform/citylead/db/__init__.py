"""Database access: the application engine, role bootstrap, embedded server and migrations."""

from citylead.db.engine import Database

__all__ = ["Database"]
