"""The data layer: a small Protocol (`Database`) and two adapters that call the same SQL
functions: psycopg (pool; the local default) and supabase-py (PostgREST)."""

from shared.db.protocol import Database, QueueMessage

__all__ = ["Database", "QueueMessage"]
