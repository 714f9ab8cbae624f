"""Column types: money is an integer number of attoFIL (1 FIL = 10**18), never a float."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import Numeric
from sqlalchemy.types import TypeDecorator

ATTO_PER_FIL = 10**18
UINT256_DIGITS = 78  # enough for any uint256 on chain


class AttoFil(TypeDecorator[int]):
    """NUMERIC(78, 0) in PostgreSQL, a Python ``int`` in code (exact both ways)."""

    impl = Numeric(UINT256_DIGITS, 0, asdecimal=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> Decimal | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"attoFIL amounts are integers, got {type(value).__name__}")
        return Decimal(value)

    def process_result_value(self, value: Any, dialect: Any) -> int | None:
        return None if value is None else int(value)
