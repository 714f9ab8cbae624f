"""Ingest Lambda: ``POST /v1/events`` behind API Gateway, and the consumer of the SQS ingest buffer.

One function with two triggers and one ``lambda_handler``, which tells them apart by the event:
SQS delivers ``{"Records": [{"eventSource": "aws:sqs", …}]}``, API Gateway a proxy event. One
function because the buffer exists to replay exactly what this code would have written: one
package, one role (database and queue), and no second deployment that could drift from the
first. The cost is a shared concurrency limit; the SQS trigger's own ``MaximumConcurrency``
keeps a draining backlog from starving the API.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from typing import Any

import sqlalchemy.exc
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from streamvault.api.cors import CORS
from streamvault.api.scopes import requires
from streamvault.errors import ClientError, error_body
from streamvault.observability import correlate_api_request, logger
from streamvault.services import ingest

BUFFERED_HEADER = "x-streamvault-buffered"
RETRY_AFTER_S = "5"

app = APIGatewayRestResolver(cors=CORS)
# A batch whose every message failed is reported like any other (all ids in batchItemFailures)
# instead of raising: same outcome for SQS, and one shape for the caller.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def _error(status: int, code: str, message: str, details: object = None,
           headers: dict[str, str] | None = None) -> Response:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON,
                    body=error_body(code, message, details), headers=headers)


@app.post("/v1/events", middlewares=[requires("ingest")])
def post_events() -> Response:
    request = app.current_event
    receipt = ingest.receive(request.decoded_body or "", request.headers.get("content-type"))
    body = receipt.body()
    if receipt.status == 422:
        return _error(422, "no_valid_event", "no event of the batch was accepted", body)
    headers = {BUFFERED_HEADER: "true"} if receipt.buffered else None
    return Response(status_code=receipt.status, content_type=content_types.APPLICATION_JSON, body=body,
                    headers=headers)


@app.exception_handler(ClientError)
def _client_error(exc: ClientError) -> Response:
    return _error(exc.status, exc.code, exc.message, exc.details)


@app.exception_handler(ingest.IngestUnavailable)
def _unavailable(exc: ingest.IngestUnavailable) -> Response:
    return _error(503, "unavailable", "the batch could not be stored now; retry it later", None,
                  {"Retry-After": RETRY_AFTER_S})


@app.not_found
def _no_route(exc: NotFoundError) -> Response:
    return _error(404, "no_route", f"no route for {app.current_event.http_method} {app.current_event.path}")


@app.exception_handler(Exception)
def _unexpected(exc: Exception) -> Response:
    logger.exception("unhandled error")  # the trace stays in the logs, never in the response
    return _error(500, "internal_error", "internal error")


class DatabaseStillDown(Exception):
    """An earlier message of this batch found the database unavailable: this one is not tried."""


def _replayer() -> Callable[[SQSRecord], None]:
    """The record handler of one batch. Raising marks a message failed: SQS redelivers it after
    its visibility timeout, and the redrive policy moves it to the dead-letter queue after
    maxReceiveCount receives. Once the database is found down, the batch's other messages fail
    at once: each would wait out the connect timeout again, and ten of them outlast the function."""
    outage: list[Exception] = []

    def replay(record: SQSRecord) -> None:
        if outage:
            raise DatabaseStillDown from outage[0]
        try:
            ingest.replay(record.body)
        except (sqlalchemy.exc.OperationalError, sqlalchemy.exc.TimeoutError) as exc:
            outage.append(exc)
            raise

    return replay


def _from_sqs(event: dict[str, Any]) -> bool:
    records = event.get("Records")
    return bool(records) and all(r.get("eventSource") == "aws:sqs" for r in records)


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    correlate_api_request(event)  # none for SQS messages
    if _from_sqs(event):
        return process_partial_response(event=event, record_handler=_replayer(), processor=processor,
                                        context=context)
    return app.resolve(event, context)


# As in the api function: what the import created lives as long as the container, so full
# collections during a batch only walk the batch's own objects.
gc.freeze()
