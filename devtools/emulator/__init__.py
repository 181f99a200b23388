"""Local Battle.net API emulator (dev tooling, not production code).

Serves Blizzard's OAuth endpoints and the WoW game data / profile APIs with the JSON shapes
of the real responses, over a deterministic world of numbered accounts, plus admin routes
under /_emulator to shape load behaviour and override accounts. Run it with
`python -m devtools.emulator`; build it in tests with `create_app(EmulatorConfig(...))`.

Modules: gamedata (classes, races, namespaces), realms (realm tables), names (names that
encode character ids), data (deterministic accounts and guilds), world (mutable world:
overrides, rosters), overrides (admin character JSON), state (config, tokens, stats),
shapes / profiles (response bodies), responses, api / oauth / admin (routes), app.
"""

from .app import create_app
from .state import EmulatorConfig, State

__all__ = ["EmulatorConfig", "State", "create_app"]
