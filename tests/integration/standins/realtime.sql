-- A stand-in for Supabase Realtime's database side, shaped like the schema Realtime installs
-- (supabase/realtime, lib/realtime/tenants/repo/migrations): realtime.messages (partitioned by
-- inserted_at, RLS enabled, readable and writable by the API roles subject to policies),
-- realtime.topic() reading the `realtime.topic` setting Realtime sets while it authorizes a
-- join, and realtime.send() inserting a broadcast. Tests create it, then drop it.
create schema realtime;
grant usage on schema realtime to anon, authenticated, service_role;

create table realtime.messages (
  topic       text      not null,
  extension   text      not null,
  payload     jsonb,
  event       text,
  private     boolean   default false,
  updated_at  timestamp not null default now(),
  inserted_at timestamp not null default now(),
  id          uuid      not null default gen_random_uuid(),
  primary key (id, inserted_at)
) partition by range (inserted_at);
create table realtime.messages_default partition of realtime.messages default;
alter table realtime.messages enable row level security;
grant select, insert, update on realtime.messages to anon, authenticated, service_role;

create function realtime.topic() returns text
language sql stable as $$
  select nullif(current_setting('realtime.topic', true), '')::text
$$;

create function realtime.send(payload jsonb, event text, topic text, private boolean default true)
returns void
language plpgsql as $$
declare
  generated_id uuid;
  final_payload jsonb;
begin
  begin
    generated_id := gen_random_uuid();
    if payload ? 'id' then
      final_payload := payload;
    else
      final_payload := jsonb_set(payload, '{id}', to_jsonb(generated_id));
    end if;
    execute format('set local realtime.topic to %L', topic);
    insert into realtime.messages (id, payload, event, topic, private, extension)
    values (generated_id, final_payload, event, topic, private, 'broadcast');
  exception when others then
    raise warning 'ErrorSendingBroadcastMessage: %', sqlerrm;
  end;
end
$$;
