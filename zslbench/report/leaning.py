"""Which way a claim's checks point: the direction that supports the claim, how many checks point
each way, and every check whose difference points against the claim with p < ALPHA, whether or not
it has the seeds a verdict needs (such a check does not decide the verdict, but a reader must see
it)."""

from __future__ import annotations

import math

from zslbench.report import stats
from zslbench.report.claims import Check, Claim, ClaimResult

SIDE_NAME = {"cn": "with ClassNorm", "no-cn": "without ClassNorm"}


def supporting_direction(claim: Claim) -> str:
    """E.g. "a > b: mlp3+cn above mlp3 (H)"; for the speed claim, the time limit."""
    if claim.kind == "speed":
        return f"training time of {claim.a} below {float(claim.params.get('max_seconds', '60')):g} s"
    word = "above" if claim.direction == "greater" else "below"
    b = " / ".join(SIDE_NAME.get(x, x) for x in claim.b)
    return (
        f"a − b {'> 0' if claim.direction == 'greater' else '< 0'}: {SIDE_NAME.get(claim.a, claim.a)} {word} {b} "
        f"({', '.join(claim.metrics)})"
    )


def points_for(check: Check, claim: Claim) -> bool | None:
    """Whether the check's measured difference points the claim's way; None for no difference."""
    if check.comparison is None:  # a time: it says nothing where the claim's device was not used
        if check.summary is None or math.isnan(check.summary.mean) or check.verdict == stats.NO_VERDICT:
            return None
        return check.summary.mean < float(claim.params.get("max_seconds", "60"))
    diff = check.comparison.diff
    if math.isnan(diff) or diff == 0:
        return None
    return diff > 0 if claim.direction == "greater" else diff < 0


def tally(res: ClaimResult) -> tuple[int, int, int]:
    """(checks pointing the claim's way, against it, neither: no difference, or a time measured
    on another device than the claim's)."""
    ways = [points_for(c, res.claim) for c in res.checks]
    return ways.count(True), ways.count(False), ways.count(None)


def tally_text(res: ClaimResult) -> str:
    if not res.checks:
        return "—"
    yes, no, none = tally(res)
    return f"{yes} for, {no} against" + (f", {none} neither" if none else "")


def against(res: ClaimResult) -> list[Check]:
    """Checks whose difference points against the claim with p < ALPHA, strongest first."""
    out = [
        c
        for c in res.checks
        if c.comparison is not None
        and points_for(c, res.claim) is False
        and not math.isnan(c.comparison.p)
        and c.comparison.p < stats.ALPHA
    ]
    return sorted(out, key=lambda c: c.comparison.p if c.comparison is not None else math.inf)


def against_text(res: ClaimResult) -> str:
    found = against(res)
    if not found:
        return "none significant"
    parts = []
    for c in found:
        cp = c.comparison
        assert cp is not None  # against() keeps only checks with a comparison
        d = 3 if c.metric in ("forgetting", "pre_var_drift") else 2
        rule = "" if cp.enough else f", below the {stats.MIN_N}-seed rule: no verdict"
        parts.append(f"{c.label}: {cp.diff:+.{d}f}, p = {stats.fmt_p(cp.p)} ({cp.n_text}{rule})")
    return "; ".join(parts)
