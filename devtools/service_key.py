"""Print the local service-role key (a JWT signed with SUPABASE_JWT_SECRET): `make service-key`."""

from shared.auth import mint_service_key
from shared.settings import Settings

if __name__ == "__main__":
    print(mint_service_key(Settings.load().supabase_jwt_secret.get_secret_value()))
