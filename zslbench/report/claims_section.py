"""The claims section of the report page: each of the paper's claims (zslbench.report.claims) with its
verdict, the deciding check's effect, test, p and n, and a fold with every check behind it."""

from __future__ import annotations

import math
from pathlib import Path

from zslbench.metrics.registry import METRICS
from zslbench.report import leaning, stats
from zslbench.report.blocks import Cell, Fold, Heading, Para, RunDetails, Table
from zslbench.report.claims import ClaimResult, evaluate
from zslbench.report.shared import SYNTHETIC_BANNER, source_text

VERDICT_CELL = {
    stats.SUPPORTED: ("✔ supported", "good"),
    stats.CONTRADICTED: ("✘ contradicted", "bad"),
    stats.INCONCLUSIVE: ("? inconclusive", "neutral"),
    stats.NO_VERDICT: ("– no verdict", "neutral"),
}


# --- claims --------------------------------------------------------------------------------------
def _claim_digits(metric: str) -> int:
    """Digits of a claim's difference: 2, or the metric's own where it has more; 3 for the logit-variance drift."""
    return 3 if metric == "pre_var_drift" else max(2, METRICS.digits(metric))


def _claim_effect(res: ClaimResult) -> tuple[str, str, str, str]:
    """(effect, test, p, n) of the check that decides the verdict."""
    check = res.headline
    if check is None:
        return "—", "—", "—", "—"
    if check.comparison is None:
        s = check.summary
        if s is None:  # a check carries a comparison or a summary (claims.Check)
            return "—", "—", "—", "—"
        if check.effect:  # a ratio
            return f"{check.effect} {check.interval} ({check.label})", "—", "—", str(s.n)
        return f"{s.mean:.1f} s ({check.label})", "—", "—", str(s.n)
    c = check.comparison
    d = _claim_digits(check.metric)
    return f"{c.diff:+.{d}f} ({check.label})", c.test, stats.fmt_p(c.p), c.n_text


def claims_blocks(results: Path) -> list:
    found = evaluate(results)
    blocks: list = [
        Heading(2, "The paper's claims, checked", "claims"),
        Para(
            f"Each claim (from `baselines/claims.csv`) is checked on every data section and option variant that "
            f"has runs for it, as one check per dataset, metric and opponent. A check compares the runs with a "
            f"two-sided paired t test over the seeds both sides share (when they share the same seeds or at least "
            f"{stats.MIN_N}), otherwise with Welch's t test; it is supported when p < {stats.ALPHA:g} in the claimed "
            f"direction, contradicted when p < {stats.ALPHA:g} in the other, and inconclusive otherwise or with fewer "
            f"than {stats.MIN_N} seeds (paired) or {stats.MIN_N} runs per side (Welch). A claim is supported when all "
            "its checks are, contradicted when any is. No correction for the number of checks is made. The effect "
            'shown is that of the deciding check (a contradicting one, else the weakest); "supported when" says '
            'which sign of a − b the claim predicts, "checks" how many differences point each way, and '
            f'"against it" every check whose difference points the other way with p < {stats.ALPHA:g}, even one '
            f"with too few seeds for a verdict."
        ),
    ]
    if any(r.synthetic for r in found):
        blocks.append(Para(SYNTHETIC_BANNER, "banner"))
    rows = []
    for r in found:
        verdict, style = VERDICT_CELL[r.verdict]
        effect, test, p, n = _claim_effect(r)
        data = source_text(r.source, r.track) if r.source else "—"
        contra = leaning.against_text(r) if r.checks else "—"
        rows.append(
            [
                Cell(r.claim.id),
                Cell(r.claim.title),
                Cell(data),
                Cell(r.variant or "—"),
                Cell(verdict, style),
                Cell(leaning.supporting_direction(r.claim)),
                Cell(effect),
                Cell(test),
                Cell(p),
                Cell(n),
                Cell(leaning.tally_text(r)),
                Cell(contra, "bad" if leaning.against(r) else ""),
                Cell(r.reason),
            ]
        )
    blocks.append(
        Table(
            [
                "#",
                "claim",
                "data",
                "variant",
                "verdict",
                "supported when",
                "effect (a − b)",
                "test",
                "p",
                "n",
                "checks (direction)",
                "against it (p < 0.05)",
                "checks",
            ],
            rows,
            numeric={8},
        )
    )
    for r in found:
        if r.checks:
            blocks.append(_claim_fold(r))
    return blocks


def _claim_fold(r: ClaimResult) -> Fold:
    rows = []
    for c in r.checks:
        verdict, style = VERDICT_CELL[c.verdict]
        runs = RunDetails(
            f"{len(c.runs_a) + len(c.runs_b)} runs",
            [
                f"a: {', '.join(f'`{i}`' for i in c.runs_a) or '—'}",
                f"b: {', '.join(f'`{i}`' for i in c.runs_b) or '—'}",
            ],
        )
        if c.comparison is not None:
            cp = c.comparison
            d = _claim_digits(c.metric)
            ci = f"[{cp.lo:+.{d}f}, {cp.hi:+.{d}f}]" if not math.isnan(cp.lo) else "—"
            nums = [f"{cp.diff:+.{d}f}", ci, cp.test, stats.fmt_p(cp.p), cp.n_text]
        elif c.effect and c.summary is not None:  # a ratio
            nums = [c.effect, c.interval, "—", "—", str(c.summary.n)]
        elif c.summary is not None:
            s = c.summary
            ci = f"[{s.lo:.1f}, {s.hi:.1f}] s" if not math.isnan(s.lo) else "—"
            nums = [f"{s.mean:.1f} s", ci, "—", "—", str(s.n)]
        else:  # neither (claims.Check carries one): nothing measured
            nums = ["—"] * 5
        rows.append(
            [
                Cell(c.label),
                *(Cell(x) for x in nums),
                Cell(verdict, style),
                Cell(c.reason),
                Cell(runs.summary, details=runs),
            ]
        )
    where = source_text(r.source, r.track) + (f", {r.variant}" if r.variant else "")
    blocks: list = [Para(f"Source: {r.claim.source}." + (f" Note: {r.claim.note}." if r.claim.note else ""))]
    if r.synthetic:
        blocks.append(Para(SYNTHETIC_BANNER, "banner"))
    blocks.append(
        Table(["check", "a − b", "95 % CI", "test", "p", "n", "verdict", "why", "runs"], rows, numeric={1, 2, 4})
    )
    if r.not_run:
        blocks.append(Para("Not run: " + "; ".join(r.not_run) + "."))
    return Fold(f"Claim {r.claim.id} on {where}: {VERDICT_CELL[r.verdict][0]}", blocks)
