"""The data layer: a small transport Protocol (`Database`) with two adapters that call the same
SQL functions, psycopg (pool; the local default) and supabase-py (PostgREST), and the typed
`Repository` services use, implemented over either by `SqlRepository`."""

from shared.db.protocol import Database
from shared.db.repository import Delivery, Repository, SqlRepository

__all__ = ["Database", "Delivery", "Repository", "SqlRepository"]
