"""SQL lives here: functions that take a SQLAlchemy ``Connection`` and return plain values."""
