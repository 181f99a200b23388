-- Extensions the project relies on. pg_cron must be preloaded (hosted Supabase: enable it in
-- the dashboard; locally the stack sets shared_preload_libraries) and can only be created in
-- the database named by cron.database_name ('postgres' on Supabase): elsewhere (a scratch
-- database a test migrates from zero) it is skipped and the cron jobs with it.
do $$
begin
  if current_database() = coalesce(current_setting('cron.database_name', true), 'postgres') then
    create extension if not exists pg_cron;
  end if;
end
$$;
create extension if not exists pgcrypto with schema extensions;
