"""Webhooks: signed deliveries of domain events to other municipal systems.

Domain services call `await webhooks.emit(session, "survey.published", data, process_id=…)`
(one line, in their own transaction); administrators manage subscriptions (API and
`/staff/webhooks`); the `webhooks.deliver` job sends each delivery signed per the Standard
Webhooks specification, retries with exponential backoff for about a day, and disables a
subscription whose delivery still fails then. Receivers verify as `signing.verify` does.

Importing this package registers the delivery job, so that `emit` enqueues it with its own
retry policy in every process (the app's too, not only the worker's).
"""

from quartier.webhooks import delivery as _delivery  # noqa: F401 - registers webhooks.deliver
from quartier.webhooks.events import EVENT_TYPES, emit

__all__ = ["EVENT_TYPES", "emit"]
