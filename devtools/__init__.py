"""Dev tooling, not production code: the local Battle.net emulator, the Postgres cluster
manager, the migration runner, the local gateway and the stack runner behind `make run`."""
