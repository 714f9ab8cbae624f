"""The engagement score (the seed's formula, made exact).

    play_to_follower_ratio = min(total_plays / followers / 10, 40)
    interaction_rate       = min((likes + 2 * comments) / total_plays * 100, 30)
    content_consistency    = min(tracks_per_month * 10, 30),  tracks_per_month = tracks_90d / 3

With no plays the first two terms are 0; with plays but no followers the first term is its cap.
Terms are computed as exact fractions; the score is their exact sum rounded half-up to
2 decimals (so it can differ by 0.01 from the sum of the rounded terms shown beside it).
The SQL function ``streamvault_engagement_score`` computes the same number set-based; a test
holds the two equal.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

RATIO_CAP = Fraction(40)
INTERACTION_CAP = Fraction(30)
CONSISTENCY_CAP = Fraction(30)
CONSISTENCY_WINDOW_DAYS = 90
CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class EngagementInputs:
    total_plays: int
    followers: int
    likes: int
    comments: int
    tracks_last_90d: int

    def __post_init__(self) -> None:
        for name in ("total_plays", "followers", "likes", "comments", "tracks_last_90d"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be a non-negative integer, got {value!r}")


@dataclass(frozen=True, slots=True)
class EngagementScore:
    play_to_follower_ratio: Decimal
    interaction_rate: Decimal
    content_consistency: Decimal
    score: Decimal

    @property
    def basis_points(self) -> int:
        """The score in basis points (0–10,000), as the oracle contract stores it."""
        return int(self.score * 100)


def _round_exact(value: Fraction) -> Decimal:
    """Half-up rounding to cents decided on the exact fraction, not on a decimal approximation."""
    hundredths = value * 100
    whole, rest = divmod(hundredths.numerator, hundredths.denominator)
    if 2 * rest >= hundredths.denominator:
        whole += 1
    return Decimal(whole).scaleb(-2).quantize(CENT)


def engagement_score(inputs: EngagementInputs) -> EngagementScore:
    plays, followers = inputs.total_plays, inputs.followers
    if plays == 0:
        ratio = interaction = Fraction(0)
    else:
        ratio = RATIO_CAP if followers == 0 else min(Fraction(plays, followers) / 10, RATIO_CAP)
        interaction = min(Fraction(inputs.likes + 2 * inputs.comments, plays) * 100, INTERACTION_CAP)
    consistency = min(Fraction(inputs.tracks_last_90d, 3) * 10, CONSISTENCY_CAP)
    return EngagementScore(
        play_to_follower_ratio=_round_exact(ratio),
        interaction_rate=_round_exact(interaction),
        content_consistency=_round_exact(consistency),
        score=_round_exact(ratio + interaction + consistency),
    )
