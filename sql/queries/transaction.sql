-- What the psycopg adapter sends ahead of every statement, in the same message (one round
-- trip, one implicit transaction): transaction-local, so nothing outlives the call behind a
-- transaction-mode pooler. {ms} is filled in once, as a literal, when the adapter is built.

-- name: set_statement_timeout
select set_config('statement_timeout', {ms}, true);
