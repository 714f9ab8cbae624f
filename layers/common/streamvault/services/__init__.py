"""Service functions: one per use case, called by the thin Lambda handlers."""
