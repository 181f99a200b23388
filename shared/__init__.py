"""Guild Sync: the code every function shares (settings, errors, Battle.net client, data layer,
services, the queue worker)."""
