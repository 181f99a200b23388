"""`make service-key`: print a service credential for the local functions: the first of
SUPABASE_SECRET_KEYS; else, with only SUPABASE_JWT_SECRET set (a stack on the legacy secret), a
service-role JWT signed with it; else the local stack's `sb_secret_` key (`.local/secret_key`,
what `make run` gives its functions; made on first use)."""

from devtools.local_keys import service_key

if __name__ == "__main__":
    print(service_key())
