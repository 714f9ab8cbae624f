"""SQS queues, each with its dead-letter queue, KMS-encrypted, TLS-only.

Visibility timeout = 6 × the consumer's timeout (AWS' guidance for Lambda event sources: a
message must stay hidden while a batch is processed and while throttled invocations are retried).
"""

from __future__ import annotations

import math

from aws_cdk import Duration
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.components.functions import SPECS
from infra.config import StageConfig

RETENTION = Duration.days(14)  # SQS' maximum: a long outage still replays everything
VISIBILITY_FACTOR = 6
# While PostgreSQL is down every replay fails and the batch returns after the visibility timeout:
# each try counts a receive. The redrive must outlast an ordinary outage (RTO ≤ 1 h, with room),
# or the buffer would empty itself into the dead-letter queue; the margin covers receives that
# are no replay (a throttled or timed-out invocation).
OUTAGE_TO_RIDE_OUT = Duration.hours(2)
INGEST_RECEIVE_MARGIN = 5
# The oracle function runs one at a time: a message received while it is busy is throttled and
# returned, which counts as a receive. Its own attempt counter (STREAMVAULT_ORACLE_MAX_ATTEMPTS)
# decides when a transaction is given up; this redrive only catches poison messages.
ORACLE_MAX_RECEIVES = 10


class Queues(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig, key: kms.IKey) -> None:
        super().__init__(scope, construct_id)
        self._prefix, self._key = f"streamvault-{config.stage}", key
        self.ingest_dlq = self._queue("ingest-buffer-dlq")
        self.ingest_buffer = self._queue("ingest-buffer", _visibility("ingest"), self.ingest_dlq, ingest_max_receives())
        self.oracle_dlq = self._queue("oracle-retry-dlq")
        self.oracle_retry = self._queue("oracle-retry", _visibility("oracle_sync"), self.oracle_dlq,
                                        ORACLE_MAX_RECEIVES)

    @property
    def by_name(self) -> dict[str, sqs.Queue]:
        """Every queue, by the name /v1/health reports its depth under."""
        return {"ingest-buffer": self.ingest_buffer, "ingest-buffer-dlq": self.ingest_dlq,
                "oracle-retry": self.oracle_retry, "oracle-retry-dlq": self.oracle_dlq}

    @property
    def dead_letter_queues(self) -> dict[str, sqs.Queue]:
        return {"IngestBuffer": self.ingest_dlq, "OracleRetry": self.oracle_dlq}

    def _queue(self, name: str, visibility: Duration | None = None, dlq: sqs.IQueue | None = None,
               max_receives: int = 0) -> sqs.Queue:
        return sqs.Queue(
            self, name.title().replace("-", ""), queue_name=f"{self._prefix}-{name}", visibility_timeout=visibility,
            retention_period=RETENTION, encryption=sqs.QueueEncryption.KMS, encryption_master_key=self._key,
            data_key_reuse=Duration.hours(1),  # fewer KMS calls per message
            enforce_ssl=True,
            dead_letter_queue=sqs.DeadLetterQueue(queue=dlq, max_receive_count=max_receives) if dlq else None,
        )


def ingest_max_receives() -> int:
    """Receives before a buffered batch is dead-lettered (47: 42 tries 174 s apart cover 2 h, + 5)."""
    replays = math.ceil(OUTAGE_TO_RIDE_OUT.to_seconds() / _visibility("ingest").to_seconds())
    return replays + INGEST_RECEIVE_MARGIN


def _visibility(consumer: str) -> Duration:
    return Duration.seconds(VISIBILITY_FACTOR * SPECS[consumer].timeout_s)
