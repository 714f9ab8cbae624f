"""CORS for browser clients: any origin (keys travel in a header, never cookies), the headers a
client sends, and the ones it must be able to read (ETag for If-None-Match, Retry-After)."""

from aws_lambda_powertools.event_handler import CORSConfig

CORS = CORSConfig(
    allow_origin="*",
    allow_headers=["Content-Type", "x-api-key", "If-None-Match"],
    expose_headers=["ETag", "Retry-After", "x-streamvault-buffered"],
    max_age=600,
)
