"""The ingest buffer: an SQS queue holding validated batches while PostgreSQL is unavailable.

A batch is one message. The body is the normalized events (privacy rules already applied: no
raw IP or user agent is ever queued) and the time the batch was received, as gzipped JSON in
base64: a 500-play batch is ~150 KB of JSON and ~40 KB compressed, well inside SQS's 256 KiB
message limit. A batch that would not fit (long comments) is split in halves until each part
fits; if a later part cannot be sent, the batch is answered 503 and the client's retry sends
it again, the parts already queued being duplicates that replay ignores (the event ledger).
To read a message by hand: ``base64 -d | gunzip``.

The queue (see ``functions/ingest/README.md``) triggers the ingest function, which writes the
batch through the same idempotent path; its redrive policy moves a message that keeps failing
to a dead-letter queue.
"""

from __future__ import annotations

import base64
import gzip
import json
from datetime import datetime
from typing import Any

from streamvault.config import get_settings
from streamvault.domain.events import IngestEvent
from streamvault.sqs import new_client

FORMAT_VERSION = 1
MESSAGE_LIMIT_BYTES = 256 * 1024


class BufferUnavailable(Exception):
    """The batch could not be queued (no queue configured, SQS unreachable or refusing, too large)."""


def encode(events: list[IngestEvent], received_at: datetime) -> str:
    document = {"v": FORMAT_VERSION, "received_at": received_at.isoformat(), "events": [e.to_wire() for e in events]}
    raw = json.dumps(document, separators=(",", ":")).encode()
    # mtime=0: the same batch always encodes to the same message (stable, comparable, testable)
    return base64.b64encode(gzip.compress(raw, compresslevel=6, mtime=0)).decode()


def decode(body: str) -> tuple[list[IngestEvent], datetime]:
    """The events and when they were received; ValueError for anything that is not a message of ours."""
    try:
        document = json.loads(gzip.decompress(base64.b64decode(body, validate=True)))
        if document.get("v") != FORMAT_VERSION:
            raise ValueError(f"unknown ingest buffer format {document.get('v')!r}")
        events = [IngestEvent.from_wire(e) for e in document["events"]]
        return events, datetime.fromisoformat(document["received_at"])
    except (OSError, EOFError, KeyError, TypeError, AttributeError) as exc:  # gzip: BadGzipFile, EOFError
        raise ValueError(f"not an ingest buffer message: {type(exc).__name__}") from None


_client: Any = None


def _sqs() -> Any:
    global _client
    if _client is None:
        # Fail fast: the request is already waiting out a database failure.
        _client = new_client(connect_timeout_s=2, read_timeout_s=5, max_attempts=3)
    return _client


def reset_buffer_client() -> None:
    """Forget the SQS client (tests, settings changes)."""
    global _client
    _client = None


def send(events: list[IngestEvent], received_at: datetime) -> None:
    queue_url = get_settings().ingest_buffer_queue_url
    if not queue_url:
        raise BufferUnavailable("no ingest buffer queue is configured")
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        for body in _messages(events, received_at):
            _sqs().send_message(QueueUrl=queue_url, MessageBody=body)
    except (BotoCoreError, ClientError) as exc:
        raise BufferUnavailable(f"SQS refused the batch: {type(exc).__name__}") from exc


def _messages(events: list[IngestEvent], received_at: datetime) -> list[str]:
    """One message, or the halves' messages when one would be over SQS's limit."""
    body = encode(events, received_at)
    if len(body) <= MESSAGE_LIMIT_BYTES:
        return [body]
    if len(events) == 1:  # not with the event size limits validation applies; guarded all the same
        raise BufferUnavailable(f"one event takes {len(body)} bytes as a message, over SQS's {MESSAGE_LIMIT_BYTES}")
    half = len(events) // 2
    return _messages(events[:half], received_at) + _messages(events[half:], received_at)
