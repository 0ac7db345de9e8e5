"""A minimal ASGI webhook receiver for bench/jobs_bench.py: answers 204 to every POST.

    uvicorn bench.webhook_receiver:app --port N

Environment (for the retry measurements):
- `RECEIVER_FAIL_FIRST=N`: answer 503 to the first N attempts of each delivery (by its
  `webhook-id` header), 204 from then on; a large N is a receiver that is down for good.
- `RECEIVER_LOG=path`: append one line per request — monotonic time, webhook-id, status —
  for the benchmark to count attempts, retries, the backoff between them and deliveries.
"""

from __future__ import annotations

import os
import time
from typing import Any

FAIL_FIRST = int(os.environ.get("RECEIVER_FAIL_FIRST", "0"))
LOG = os.environ.get("RECEIVER_LOG")
_attempts: dict[str, int] = {}
_log = open(LOG, "a", buffering=1) if LOG else None  # noqa: SIM115 - open for the process


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    status = 204
    if FAIL_FIRST or _log is not None:
        headers = dict(scope.get("headers") or [])
        webhook_id = headers.get(b"webhook-id", b"").decode("ascii", "replace")
        seen = _attempts[webhook_id] = _attempts.get(webhook_id, 0) + 1
        if seen <= FAIL_FIRST:
            status = 503
        if _log is not None:
            _log.write(f"{time.time():.6f} {webhook_id} {status}\n")
    await send({"type": "http.response.start", "status": status, "headers": []})
    await send({"type": "http.response.body", "body": b""})
