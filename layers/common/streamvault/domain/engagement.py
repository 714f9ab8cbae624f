"""The engagement score (the seed's formula, made exact).

    play_to_follower_ratio = min(total_plays / followers / 10, 40)
    interaction_rate       = min((likes + 2 * comments) / total_plays * 100, 30)
    content_consistency    = min(tracks_per_month * 10, 30),  tracks_per_month = tracks_90d / 3

With no plays the first two terms are 0; with plays but no followers the first term is its cap.
Terms are computed as exact fractions (integer numerator and denominator: the profile route
computes this on every request, and ``fractions.Fraction`` costs several times more); the score
is their exact sum rounded half-up to 2 decimals (so it can differ by 0.01 from the sum of the
rounded terms shown beside it).
The SQL function ``streamvault_engagement_score`` computes the same number set-based; a test
holds the two equal.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

RATIO_CAP = 40
INTERACTION_CAP = 30
CONSISTENCY_CAP = 30
CONSISTENCY_WINDOW_DAYS = 90


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


Exact = tuple[int, int]  # numerator, denominator > 0


def _capped(numerator: int, denominator: int, cap: int) -> Exact:
    return (cap, 1) if numerator >= cap * denominator else (numerator, denominator)


def _round_exact(value: Exact) -> Decimal:
    """Half-up rounding to cents decided on the exact value: floor(100 n / d + 1/2)."""
    numerator, denominator = value
    return Decimal((200 * numerator + denominator) // (2 * denominator)).scaleb(-2)


def engagement_score(inputs: EngagementInputs) -> EngagementScore:
    plays, followers = inputs.total_plays, inputs.followers
    if plays == 0:
        ratio = interaction = (0, 1)
    else:
        ratio = (RATIO_CAP, 1) if followers == 0 else _capped(plays, followers * 10, RATIO_CAP)
        interaction = _capped((inputs.likes + 2 * inputs.comments) * 100, plays, INTERACTION_CAP)
    consistency = _capped(inputs.tracks_last_90d * 10, 3, CONSISTENCY_CAP)
    (n1, d1), (n2, d2), (n3, d3) = ratio, interaction, consistency
    total = (n1 * d2 * d3 + n2 * d1 * d3 + n3 * d1 * d2, d1 * d2 * d3)
    return EngagementScore(
        play_to_follower_ratio=_round_exact(ratio),
        interaction_rate=_round_exact(interaction),
        content_consistency=_round_exact(consistency),
        score=_round_exact(total),
    )
