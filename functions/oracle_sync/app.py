"""The oracle sync Lambda: the hourly EventBridge schedule runs a sync; records from the SQS
retry queue move one transaction on each (partial batch failure: only a record whose processing
raised is redelivered)."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from streamvault.observability import logger, metrics
from streamvault.services.oracle_sync import build_runtime, process_retry, retry_queue, run_sync
from streamvault.tracing import tracer

processor = BatchProcessor(event_type=EventType.SQS)
# Built once per container (RPC client, signer: the KMS public key is fetched once).
runtime = cache(build_runtime)


@tracer.capture_method
def record_handler(record: SQSRecord) -> None:
    rt = runtime()
    process_retry(rt, retry_queue(rt.settings), json.loads(record.body))


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if "Records" in event:
        return process_partial_response(event=event, record_handler=record_handler, processor=processor,
                                        context=context)
    rt = runtime()
    report = run_sync(rt, retry_queue(rt.settings), trigger="schedule")
    return {"run_id": report.run_id, "creators": report.creators, "transactions": report.transactions,
            "confirmed": report.confirmed, "failed": report.failed, "pending": report.pending,
            "skipped": report.skipped}
