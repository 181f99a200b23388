-- A guild's page (issue 10 item 4): the guild with its connected-realm group and its members,
-- who may be on any realm of that group (a roster lists each member with their own realm).
-- Readable by a user with an active character in the guild; null for anyone else (404).

create or replace function public.guild_page(p_user_id uuid, p_guild_id bigint)
returns jsonb
language sql
stable
set search_path = public, pg_temp
as $$
  select jsonb_build_object(
    'id', g.id,
    'name', g.name,
    'realm', coalesce(g.realm_name, gr.name, g.realm_slug),
    'connectedRealmId', gr.connected_realm_id,
    'members', coalesce((
      select jsonb_agg(jsonb_build_object(
               'id', c.id,
               'name', c.name,
               'realm', coalesce(cr.name, c.realm_name, c.realm_slug),
               'level', c.level,
               'class', coalesce(c.class_name, wc.name),
               'rank', c.guild_rank)
             order by c.guild_rank nulls last, c.name, c.id)
      from characters c
      left join wow_realms cr
        on (cr.region, cr.flavor, cr.id) = (c.region, c.flavor, c.realm_id)
      left join wow_classes wc on (wc.flavor, wc.id) = (c.flavor, c.class_id)
      where c.guild_id = g.id and c.is_active), '[]'::jsonb))
  from guilds g
  left join wow_realms gr on (gr.region, gr.flavor, gr.id) = (g.region, g.flavor, g.realm_id)
  where g.id = p_guild_id
    and exists (select 1 from characters mine
                where mine.guild_id = g.id and mine.user_id = p_user_id and mine.is_active)
$$;
select public.grant_to_service_role_only('guild_page(uuid,bigint)');
