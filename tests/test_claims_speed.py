"""A speed claim's check carries a time summary and no comparison: the claim's headline is
found without one, also when that check contradicts the claim."""

from __future__ import annotations

from zslbench.report import stats
from zslbench.report.claims import Check, Claim, ClaimResult


def _claim() -> Claim:
    return Claim(
        "9",
        "trains in under 30 s on a GPU",
        "speed",
        "gzsl",
        ("train_seconds",),
        "mlp3+cn",
        (),
        "less",
        ("sun",),
        (),
        {},
        "paper",
        "",
    )


def test_a_contradicting_speed_check_is_the_headline():
    slow = stats.Summary(mean=45.0, std=1.0, n=5, lo=43.8, hi=46.2)
    speed = Check(
        "SUN, training time of mlp3+cn",
        "sun",
        "train_seconds",
        stats.CONTRADICTED,
        "95 % interval of the mean above 30 s",
        None,
        slow,
    )
    lower = dict(enumerate([1.0, 2.0, 3.0, 4.0, 5.0]))
    higher = dict(enumerate([2.0, 3.0, 4.5, 5.0, 6.5]))
    other = Check("SUN, H", "sun", "H", stats.CONTRADICTED, "p < 0.05", stats.compare(lower, higher))
    result = ClaimResult(_claim(), "xlsa17", None, "", stats.CONTRADICTED, "", [speed], [])
    assert result.headline is speed
    result.checks = [speed, other]
    assert result.headline is other  # a comparison's p ranks before a check without one
