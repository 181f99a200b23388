-- Login hardening (OAuth security BCP) and the operator's user lookup.
--
-- A login state is bound to the browser that started it: the login stores the SHA-256 of a
-- random value it also sets in an HttpOnly cookie, and the callback must bring that cookie.
-- A state is single use (deleted when consumed); expired states are purged whenever a login
-- starts or completes, and every five minutes by pg_cron.

alter table public.oauth_states add column if not exists browser_hash text;

create or replace function public.purge_login_states()
returns integer language plpgsql security definer set search_path = public, pg_temp as $$
declare
  v_count integer;
begin
  delete from oauth_states where expires_at <= now() or used_at is not null;
  get diagnostics v_count = row_count;
  return v_count;
end
$$;

create or replace function public.save_oauth_state(
  p_state text, p_code_verifier text, p_redirect_to text, p_region text, p_browser_hash text,
  p_expires_at timestamptz
) returns void
language plpgsql security definer set search_path = public, pg_temp as $$
begin
  perform public.purge_login_states();
  insert into oauth_states (state, code_verifier, redirect_to, region, browser_hash, expires_at)
  values (p_state, p_code_verifier, p_redirect_to, p_region, p_browser_hash, p_expires_at);
end
$$;

-- The state, once, for the browser that started it: null for an unknown, expired or used
-- state; {"browserMismatch": true} when the browser's hash differs (the state is then kept for
-- the browser it belongs to).
create or replace function public.consume_login_state(p_state text, p_browser_hash text)
returns jsonb
language plpgsql security definer set search_path = public, pg_temp as $$
declare
  s oauth_states;
begin
  perform public.purge_login_states();
  select * into s from oauth_states where state = p_state for update;
  if not found then
    return null;
  end if;
  if s.browser_hash is null or p_browser_hash is null or s.browser_hash <> p_browser_hash then
    return jsonb_build_object('browserMismatch', true);
  end if;
  delete from oauth_states where state = p_state;
  return jsonb_build_object('state', s.state, 'codeVerifier', s.code_verifier,
                            'redirectTo', s.redirect_to, 'region', s.region);
end
$$;

-- Replaced by consume_login_state: a state must never be consumed without its browser check.
drop function if exists public.consume_oauth_state(text);

-- The operator's calls name a user by id or by Battle.net account id: the user's id, or null.
create or replace function public.find_user_id(
  p_user_id uuid default null, p_battlenet_id bigint default null
) returns uuid
language sql stable security definer set search_path = public, pg_temp as $$
  select id from users
  where (p_user_id is not null or p_battlenet_id is not null)
    and (p_user_id is null or id = p_user_id)
    and (p_battlenet_id is null or battlenet_id = p_battlenet_id)
$$;

select public.grant_to_service_role_only(
  'purge_login_states()',
  'save_oauth_state(text,text,text,text,text,timestamptz)',
  'consume_login_state(text,text)',
  'find_user_id(uuid,bigint)'
);

do $$
begin
  if to_regnamespace('cron') is null then
    return;
  end if;
  perform cron.schedule('guild-sync-purge-login-states', '*/5 * * * *',
                        'select public.purge_login_states()');
end
$$;
