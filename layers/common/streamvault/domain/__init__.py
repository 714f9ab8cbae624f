"""Pure business rules: no I/O, no framework, unit-tested."""
