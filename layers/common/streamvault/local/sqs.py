"""The ingest buffer without AWS: moto's SQS, and the part of Lambda's SQS trigger that matters.

``create_buffer_queues`` makes the queue and its dead-letter queue with the redrive policy the
infrastructure declares. ``drain_once`` does what Lambda's event source mapping does: receive a
batch, hand it to the function as an SQS event, delete what the function did not report failed
(a failed message stays, comes back after its visibility timeout, and moves to the dead-letter
queue after ``max_receives`` receives). ``QueuePoller`` repeats it in a thread for ``make run``.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable
from typing import Any

from streamvault.local.apigw import LocalContext

BUFFER_QUEUE = "streamvault-ingest-buffer"
MAX_RECEIVES = 5
SQS_BATCH = 10


def create_buffer_queues(sqs: Any, name: str = BUFFER_QUEUE, max_receives: int = MAX_RECEIVES,
                         visibility_timeout_s: int = 30) -> tuple[str, str]:
    """(queue URL, dead-letter queue URL)."""
    dlq_url = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    queue_url = sqs.create_queue(QueueName=name, Attributes={
        "VisibilityTimeout": str(visibility_timeout_s),
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(max_receives)}),
    })["QueueUrl"]
    return queue_url, dlq_url


def drain_once(sqs: Any, queue_url: str, handler: Callable[[dict, Any], dict], wait_s: int = 0) -> int:
    """One receive → invoke → delete round; returns how many messages were received."""
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=SQS_BATCH, WaitTimeSeconds=wait_s,
                                   AttributeNames=["All"]).get("Messages", [])
    if not messages:
        return 0
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    event = {"Records": [_record(m, arn) for m in messages]}
    failed = {f["itemIdentifier"] for f in handler(event, LocalContext()).get("batchItemFailures", [])}
    done = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
            for i, m in enumerate(messages) if m["MessageId"] not in failed]
    if done:
        sqs.delete_message_batch(QueueUrl=queue_url, Entries=done)
    return len(messages)


def _record(message: dict[str, Any], queue_arn: str) -> dict[str, Any]:
    return {
        "messageId": message["MessageId"], "receiptHandle": message["ReceiptHandle"], "body": message["Body"],
        "attributes": message.get("Attributes", {}), "messageAttributes": {}, "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs", "eventSourceARN": queue_arn, "awsRegion": queue_arn.split(":")[3],
    }


class QueuePoller(threading.Thread):
    """Drains the queue into the handler until stopped (the local stack's SQS trigger)."""

    def __init__(self, sqs: Any, queue_url: str, handler: Callable[[dict, Any], dict]) -> None:
        super().__init__(name="ingest-buffer-poller", daemon=True)
        self._sqs, self._queue_url, self._handler = sqs, queue_url, handler
        self._stopped = threading.Event()

    def run(self) -> None:
        while not self._stopped.is_set():
            try:
                drain_once(self._sqs, self._queue_url, self._handler, wait_s=1)
            except Exception as exc:  # keep polling, as the trigger would: the messages come back
                sys.stderr.write(f"ingest buffer poller: {type(exc).__name__}: {exc}\n")
                self._stopped.wait(1)

    def stop(self) -> None:
        self._stopped.set()
        self.join(timeout=5)
