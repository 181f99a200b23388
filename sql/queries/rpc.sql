-- The SQL functions services call, one block per function (the psycopg adapter runs these;
-- the supabase-py adapter calls the same functions with .rpc()).

-- name: upsert_static_data
select public.upsert_static_data(p_data => %(p_data)s) as value;
