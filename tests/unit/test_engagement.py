"""The engagement score's edge cases, made exact."""

import math
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st
from streamvault.domain.engagement import EngagementInputs, engagement_score


def score(plays=0, followers=0, likes=0, comments=0, tracks=0):
    return engagement_score(EngagementInputs(plays, followers, likes, comments, tracks))


def test_no_plays_means_first_two_terms_are_zero_whatever_the_likes():
    s = score(plays=0, followers=0, likes=50, comments=10, tracks=0)
    assert (s.play_to_follower_ratio, s.interaction_rate, s.score) == (Decimal("0.00"),) * 3


def test_plays_without_followers_take_the_ratio_cap():
    assert score(plays=3, followers=0).play_to_follower_ratio == Decimal("40.00")


def test_each_term_is_capped():
    s = score(plays=10_000_000, followers=1, likes=10_000_000, comments=10_000_000, tracks=50)
    assert (s.play_to_follower_ratio, s.interaction_rate, s.content_consistency) == (
        Decimal("40.00"), Decimal("30.00"), Decimal("30.00"))
    assert s.score == Decimal("100.00")
    assert s.basis_points == 10_000


def test_the_seed_example():
    # 1,000 plays / 10 followers / 10 = 10; (5 + 2*3) / 1000 * 100 = 1.1; 2 tracks in 90 days → 6.67
    s = score(plays=1000, followers=10, likes=5, comments=3, tracks=2)
    assert (s.play_to_follower_ratio, s.interaction_rate, s.content_consistency, s.score) == (
        Decimal("10.00"), Decimal("1.10"), Decimal("6.67"), Decimal("17.77"))


def test_comments_weigh_double():
    assert score(plays=100, followers=100, comments=1).interaction_rate == Decimal("2.00")
    assert score(plays=100, followers=100, likes=1).interaction_rate == Decimal("1.00")


def test_rounding_is_half_up_on_the_exact_value():
    # ratio 800/800/10 = 0.1, interaction 1/800*100 = 0.125: exactly 0.225 → 0.23 (banker's would say 0.22)
    s = score(plays=800, followers=800, likes=1)
    assert s.interaction_rate == Decimal("0.13")
    assert s.score == Decimal("0.23")


def test_score_is_the_rounded_exact_sum_not_the_sum_of_rounded_terms():
    # one track: 10/3 = 3.333…; ratio 1/3/10… pick thirds that add up: 3.333… + 0.0666… = 3.4
    s = score(plays=2, followers=3, tracks=1)  # ratio 2/3/10 = 0.0666…, interaction 0
    assert s.play_to_follower_ratio + s.content_consistency == Decimal("3.40")
    assert s.score == Decimal("3.40")
    s = score(plays=1, followers=3, tracks=1)  # 0.0333… + 3.333… = 3.3666… → 3.37; terms 0.03 + 3.33 = 3.36
    assert s.score == Decimal("3.37")


@pytest.mark.parametrize("field", ["total_plays", "followers", "likes", "comments", "tracks_last_90d"])
@pytest.mark.parametrize("bad", [-1, 1.5, True, None])
def test_inputs_must_be_non_negative_integers(field, bad):
    values = dict(total_plays=1, followers=1, likes=1, comments=1, tracks_last_90d=1)
    values[field] = bad
    with pytest.raises(ValueError, match=field):
        EngagementInputs(**values)


counts = st.integers(min_value=0, max_value=10**12)


@given(counts, counts, counts, counts, st.integers(min_value=0, max_value=500))
def test_score_is_between_0_and_100_and_never_below_any_term(plays, followers, likes, comments, tracks):
    s = score(plays, followers, likes, comments, tracks)
    assert Decimal(0) <= s.score <= Decimal(100)
    assert s.score >= max(s.play_to_follower_ratio, s.interaction_rate, s.content_consistency)
    assert s.score.as_tuple().exponent == -2



def reference_score(plays, followers, likes, comments, tracks):
    """The formula as the module's docstring states it, with fractions.Fraction."""

    def cents(value: Fraction) -> Decimal:  # half up, decided on the exact value
        return Decimal(math.floor(value * 100 + Fraction(1, 2))).scaleb(-2)

    if plays == 0:
        ratio = interaction = Fraction(0)
    else:
        ratio = Fraction(40) if followers == 0 else min(Fraction(plays, followers) / 10, Fraction(40))
        interaction = min(Fraction(likes + 2 * comments, plays) * 100, Fraction(30))
    consistency = min(Fraction(tracks, 3) * 10, Fraction(30))
    return cents(ratio), cents(interaction), cents(consistency), cents(ratio + interaction + consistency)


small = st.integers(min_value=0, max_value=5_000)  # where the caps and the roundings are reached


@given(st.one_of(counts, small), st.one_of(counts, small), st.one_of(counts, small), st.one_of(counts, small),
       st.integers(min_value=0, max_value=500))
def test_integer_arithmetic_equals_the_formula_in_fractions(plays, followers, likes, comments, tracks):
    s = score(plays, followers, likes, comments, tracks)
    terms = (s.play_to_follower_ratio, s.interaction_rate, s.content_consistency, s.score)
    assert terms == reference_score(plays, followers, likes, comments, tracks)
    assert {t.as_tuple().exponent for t in terms} == {-2}
