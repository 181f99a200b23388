"""URLs from callers, parsed once: what does not parse (`http://[::1`, a port past 65535, a
netloc that NFKC-normalizes into other characters, such as one with a fullwidth number sign
U+FF03 before an `@`) is a
400 naming the input, never a ValueError that surfaces as a 500."""

from __future__ import annotations

from urllib.parse import SplitResult, urlsplit

from shared.errors import BadRequest


def split_url(value: str, what: str) -> SplitResult:
    """`urlsplit(value)` with its port checked; BadRequest naming `what` when it does not
    parse."""
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port that is not 0-65535
    except ValueError as exc:
        raise BadRequest(f"{what} is not a valid URL ({exc})") from None
    return parts
