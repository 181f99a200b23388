"""The local consumer loop of `make run`: calls the queue-consumer function again and again
(as Cloud Scheduler or pg_cron + pg_net would in production), pausing while queues are empty;
each call looks again at empty queues for a second, so work is picked up within 0.1 s.

`--direct` runs the worker in this process instead of over HTTP (tests and benchmarks use it
to have several consumer processes, and to kill one mid-batch).
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import time

import httpx

IDLE_PAUSE = 0.25
IDLE_SECONDS = 1.0  # each call looks again at empty queues this long (every 0.1 s) before it ends
ERROR_PAUSE = 3.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--gateway", default="http://127.0.0.1:54321")
    parser.add_argument("--direct", action="store_true", help="run the worker in-process")
    parser.add_argument("--max-messages", type=int, default=200)
    parser.add_argument("--max-seconds", type=float, default=20.0)
    parser.add_argument("--visibility-timeout", type=int, default=60)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--backoff-base", type=float, default=2.0, help="seconds (direct)")
    parser.add_argument("--once", action="store_true", help="one call, then exit")
    parser.add_argument(
        "--idle-pause", type=float, default=IDLE_PAUSE, help="seconds to wait on empty queues"
    )
    parser.add_argument(
        "--error-pause", type=float, default=ERROR_PAUSE, help="seconds to wait after a failure"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="consumer %(levelname)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    running = True

    def stop(signum: int, frame: object) -> None:
        nonlocal running
        running = False

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    call = _direct(args) if args.direct else _over_http(args)
    while running:
        try:
            result = call()
        except Exception as exc:  # keep going: the database or gateway may come back
            logging.warning("consumer call failed: %s", exc)
            time.sleep(args.error_pause)
            continue
        busy = sum(result.get(k, 0) for k in ("processed", "failed", "retried", "deadLettered"))
        if busy:
            logging.info("%s", result)
        if args.once:
            break
        if not busy:
            time.sleep(args.idle_pause)
    return 0


def _over_http(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from devtools.local_keys import service_key

    key = service_key()  # the stack gives it the functions' settings
    body = {
        "maxMessages": args.max_messages,
        "maxSeconds": args.max_seconds,
        "visibilityTimeout": args.visibility_timeout,
        "idleSeconds": IDLE_SECONDS,
    }
    client = httpx.Client(timeout=args.max_seconds + 60)

    def call() -> dict[str, int]:
        response = client.post(
            f"{args.gateway}/functions/v1/queue-consumer",
            json=body,
            headers={"Authorization": f"Bearer {key}"},
        )
        response.raise_for_status()
        result: dict[str, int] = response.json()
        return result

    return call


def _direct(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from shared.instance import get_app
    from shared.jobs.worker import WorkerOptions

    options = WorkerOptions(
        visibility_timeout=args.visibility_timeout,
        concurrency=args.concurrency,
        backoff_base=args.backoff_base,
    )

    def call() -> dict[str, int]:
        worker = get_app().worker(options)
        return worker.run(args.max_messages, args.max_seconds, IDLE_SECONDS).as_json()

    return call


if __name__ == "__main__":
    sys.exit(main())
