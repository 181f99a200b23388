"""`make requeue`: put dead-lettered messages back as fresh work through the running stack's
queue-consumer function (POST /functions/v1/queue-consumer/requeue with the credential
`make service-key` prints)."""

from __future__ import annotations

import argparse
import json
import sys

import httpx


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--gateway", default="http://127.0.0.1:54321")
    parser.add_argument("--queue", help="only this queue (e.g. character_sync)")
    parser.add_argument("--since", help="only those dead-lettered since (ISO time)")
    parser.add_argument("--reason", help="only those whose reason contains this text")
    parser.add_argument("--limit", type=int, help="at most this many (default 1000)")
    args = parser.parse_args(argv)
    from devtools.local_keys import service_key

    key = service_key()
    body = {k: v for k, v in vars(args).items() if k != "gateway" and v is not None}
    response = httpx.post(
        f"{args.gateway}/functions/v1/queue-consumer/requeue",
        json=body,
        headers={"Authorization": f"Bearer {key}"},
        timeout=60,
    )
    print(json.dumps(response.json(), indent=2))
    return 0 if response.status_code == 200 else 1


if __name__ == "__main__":
    sys.exit(main())
