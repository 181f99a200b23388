-- pgmq through the pgmq_public wrappers, as Supabase exposes them.

-- name: queue_send_batch
select * from pgmq_public.send_batch(%(queue_name)s, %(messages)s::jsonb[], %(sleep_seconds)s);

-- name: queue_read
select msg_id, read_ct, enqueued_at, message
from pgmq_public.read(%(queue_name)s, %(sleep_seconds)s, %(n)s);

-- name: queue_archive
select pgmq_public.archive(%(queue_name)s, %(message_id)s) as value;

-- name: queue_delete
select pgmq_public.delete(%(queue_name)s, %(message_id)s) as value;
