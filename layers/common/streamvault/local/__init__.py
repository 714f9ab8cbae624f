"""The local stack: embedded PostgreSQL and the HTTP front that calls the real handlers."""
