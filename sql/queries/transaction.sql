-- What the psycopg adapter sends ahead of every statement, pipelined with it (one round trip,
-- one implicit transaction): transaction-local, so nothing outlives the call behind a
-- transaction-mode pooler.

-- name: set_statement_timeout
select set_config('statement_timeout', %(ms)s, true);
