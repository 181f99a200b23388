"""`make demo` (with `make run` running): log a generated emulator user in through the real
OAuth redirects, start a retail sync, follow its live events with a progress bar, and print the
user's characters with guild and avatar."""

from __future__ import annotations

import argparse
import sys

import httpx

from devtools.client import StackClient

BAR = 40


def bar(percent: int) -> str:
    filled = BAR * percent // 100
    return "[" + "#" * filled + "." * (BAR - filled) + f"] {percent:3d}%"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--account", type=int, default=12, help="emulator account number")
    parser.add_argument("--gateway", default="http://127.0.0.1:54321")
    parser.add_argument("--emulator", default="http://127.0.0.1:54323")
    parser.add_argument("--game-version", default="retail")
    args = parser.parse_args(argv)
    client = StackClient(args.gateway, args.emulator, httpx.Client(timeout=30))
    try:
        client.http.get(f"{args.gateway}/health").raise_for_status()
    except httpx.HTTPError:
        print(f"no stack at {args.gateway}: start it with `make run` first", file=sys.stderr)
        return 1
    login = client.login(args.account)
    token = login["accessToken"]
    print(f"logged in as {login['user']['battletag']} (user {login['user']['id']})")
    status, body = client.sync(token, args.game_version)
    if status == 409 and "sessionId" in body.get("error", {}):
        session_id = body["error"]["sessionId"]  # the sync the login queued is already running
        print(f"following the sync the login started: {session_id}")
    elif status == 202:
        session_id = body["sessionId"]
        print(f"sync started: {body['syncedCharacters']} characters, session {session_id}")
    else:
        print(f"sync answered {status}: {body}", file=sys.stderr)
        return 1
    for event, data in client.events(token, session_id):
        if event == "sync-progress":
            current = data.get("currentCharacter") or {}
            label = (
                f"{current.get('name', '')}-{current.get('realm', '')} {current.get('status', '')}"
            )
            print(f"\r{bar(data['progressPercentage'])} {label:<40}", end="", flush=True)
        elif event == "sync-complete":
            print(
                f"\r{bar(100)} done: {data['processedCharacters']} processed, "
                f"{data['failedCharacters']} failed{' ' * 20}"
            )
        elif event == "sync-error":
            print(f"\nsync failed: {data['error']}", file=sys.stderr)
            return 1
    print()
    for c in client.characters(token):
        guild = c["guild"]["name"] if c["guild"] else "-"
        print(
            f"  {c['name']:<14} {c['realm']:<22} lvl {c['level'] or '?':<3} "
            f"{(c['class'] or ''):<13} guild {guild:<22} {c['avatarUrl'] or 'no avatar'}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
