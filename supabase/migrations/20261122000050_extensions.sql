-- Extensions the project relies on. pg_cron must be preloaded (hosted Supabase: enable it in
-- the dashboard; locally the stack sets shared_preload_libraries) and lives in the database
-- named by cron.database_name.
create extension if not exists pg_cron;
create extension if not exists pgcrypto with schema extensions;
