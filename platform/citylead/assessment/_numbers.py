"""Exact arithmetic for scores: fractions inside, decimals only for display."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

__all__ = ["exact", "rounded"]


def exact(value: int | float | str | Fraction) -> Fraction:
    """A number from the rules as written: ``89.999`` is 89999/1000, not the nearest binary float."""
    if isinstance(value, Fraction):
        return value
    return Fraction(str(value)) if isinstance(value, float) else Fraction(value)


def rounded(value: Fraction, places: int = 2) -> Decimal:
    """``value`` rounded half up to ``places`` decimals, for display and export only."""
    quantum = Decimal(1).scaleb(-places)
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(quantum, ROUND_HALF_UP)
