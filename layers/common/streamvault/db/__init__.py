"""PostgreSQL access: engine, models, migrations and repositories."""
