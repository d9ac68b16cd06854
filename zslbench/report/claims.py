"""The paper's checkable claims (baselines/claims.csv), judged on a results folder.

Each claim is a row of data: which table (gzsl, czsl), which metric(s), the two sides (``a``
and ``b``: models, or ``cn`` / ``no-cn`` for the CZSL methods listed under ``methods``), the
direction a must differ from b in, and the datasets.  A claim is checked once per data section
(data source, CZSL track) and config variant that holds runs for it (zslbench.report.records),
as a set of *checks*: one per dataset, metric, method and opponent.  Each check compares the
runs of a with those of b (zslbench.report.stats: paired t over matching seeds, else Welch);
the claim is *supported* when every check that has runs is, *contradicted* when any check is,
and *inconclusive* otherwise.  Datasets without runs are listed as not run.  The speed claim,
about one model alone, is judged on each section's base variant only (see :func:`base_first`); a
speed-ratio claim on the runs of a section whatever their variant, paired by dataset, seed and
machine (:func:`machine_of`).
"""

from __future__ import annotations

import io
import math
import warnings
from dataclasses import asdict, dataclass, field, is_dataclass
from importlib import resources
from pathlib import Path

import pandas as pd

from zslbench.data.registry import source_info
from zslbench.environment import machine_text
from zslbench.errors import DataError
from zslbench.records import RunRecord
from zslbench.report import stats
from zslbench.report.records import (
    Variant,
    VariantGroup,
    collect,
    label_variants,
    order_variants,
    section_of,
    sorted_sections,
    variant_of,
)

CLAIMS_FILE = "claims.csv"


@dataclass(frozen=True)
class Claim:
    id: str
    title: str
    kind: str  # "compare", "speed" (one model's time) or "speed_ratio" (a's time / b's, same machine)
    table: str  # "gzsl" or "czsl"
    metrics: tuple[str, ...]
    a: str
    b: tuple[str, ...]
    direction: str  # "greater" or "less"
    datasets: tuple[str, ...]
    methods: tuple[str, ...]
    params: dict
    source: str
    note: str


def _items(text: str) -> tuple[str, ...]:
    return tuple(t.strip() for t in str(text).split(";") if t.strip())


def load_claims() -> list[Claim]:
    """The claims shipped in the package (a copy of baselines/claims.csv)."""
    try:
        text = resources.files("zslbench").joinpath("baselines").joinpath(CLAIMS_FILE).read_text(encoding="utf-8")
    except (FileNotFoundError, OSError) as exc:
        raise DataError(f"zslbench/baselines/{CLAIMS_FILE}: the claims are missing from this install ({exc})") from None
    frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    out = []
    for r in frame.itertuples(index=False):
        params = dict(p.split("=", 1) for p in _items(r.params))
        out.append(
            Claim(
                r.claim,
                r.title,
                r.kind,
                r.table,
                _items(r.metric),
                r.a,
                _items(r.b),
                r.direction,
                _items(r.datasets),
                _items(r.methods),
                params,
                r.source,
                r.note,
            )
        )
    return out


# --- per-run values ---------------------------------------------------------------------------
def pre_var_drift(rec: RunRecord) -> float | None:
    """|ln(mean pre-normalisation logit variance over the last epoch / over the first epoch)|,
    from the run's trace.csv; None without a usable trace."""
    path = Path(rec.get("_dir", "")) / "trace.csv"
    if not path.is_file():
        return None
    try:
        trace = pd.read_csv(path, usecols=["epoch", "pre_var"])
    except (OSError, ValueError):
        return None
    if trace.empty:
        return None
    per_epoch = trace.groupby("epoch")["pre_var"].mean()
    first, last = float(per_epoch.iloc[0]), float(per_epoch.iloc[-1])
    if not (first > 0 and last > 0):
        return None
    return abs(math.log(last / first))


def run_value(rec: RunRecord, metric: str) -> float | None:
    if metric == "pre_var_drift":
        return pre_var_drift(rec)
    if metric == "train_seconds":
        value = rec.get("train_seconds")
    else:
        value = (rec.get("metrics") or {}).get(metric)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def by_seed(recs: list[RunRecord], metric: str) -> tuple[dict[int, float], list[str]]:
    """{seed: value} and the run ids used (a second run of the same seed is left out)."""
    values: dict[int, float] = {}
    ids: list[str] = []
    for rec in sorted(recs, key=lambda r: (r["seed"], str(r.get("run_id")))):
        value = run_value(rec, metric)
        if value is None or rec["seed"] in values:
            continue
        values[rec["seed"]] = value
        ids.append(str(rec.get("run_id")))
    return values, ids


# --- results -----------------------------------------------------------------------------------
@dataclass
class Check:
    label: str  # e.g. "CUB, H: mlp3+cn vs mlp3"
    dataset: str
    metric: str
    verdict: str
    reason: str
    comparison: stats.Comparison | None = None
    summary: stats.Summary | None = None  # speed checks: the training time of a
    runs_a: list[str] = field(default_factory=list)
    runs_b: list[str] = field(default_factory=list)
    effect: str = ""  # ratio checks: the effect and its interval as text (the report shows them)
    interval: str = ""


@dataclass
class ClaimResult:
    claim: Claim
    source: str  # data source of the records ("" when no records)
    track: str | None
    variant: str  # variant label ("" when no records)
    verdict: str
    reason: str
    checks: list[Check]
    not_run: list[str]  # checks without runs on both sides

    @property
    def headline(self) -> Check | None:
        """The check that decides the verdict: a contradicting one, else the weakest (largest p)."""
        tested = [c for c in self.checks if c.comparison is not None or c.summary is not None]
        if not tested:
            return None
        against = [c for c in tested if c.verdict == stats.CONTRADICTED]
        if against:
            return min(against, key=lambda c: _p_or(c, 2.0))
        return max(tested, key=lambda c: _p_or(c, 2.0))

    @property
    def synthetic(self) -> bool:
        return source_info(self.source).synthetic


def _p_or(check: Check, default: float) -> float:
    if check.comparison is None or math.isnan(check.comparison.p):
        return default
    return check.comparison.p


def _select(recs: list[RunRecord], claim: Claim, side: str, dataset: str, method: str | None) -> list[RunRecord]:
    here = [r for r in recs if r["dataset"] == dataset]
    if claim.table == "gzsl":
        return [r for r in here if r.get("model") == side]
    cn = side == "cn"
    return [r for r in here if r.get("method") == method and bool(r.get("classnorm")) == cn]


def _compare_checks(claim: Claim, recs: list[RunRecord]) -> tuple[list[Check], list[str]]:
    checks, not_run = [], []
    methods = claim.methods or (None,)
    for ds in claim.datasets:
        for method in methods:
            for metric in claim.metrics:
                for b in claim.b:
                    a_name = f"{method}+cn" if method and claim.a == "cn" else claim.a
                    b_name = method if method and b == "no-cn" else b
                    label = f"{_ds(ds)}, {metric}: {a_name} vs {b_name}"
                    va, ids_a = by_seed(_select(recs, claim, claim.a, ds, method), metric)
                    vb, ids_b = by_seed(_select(recs, claim, b, ds, method), metric)
                    if not va or not vb:
                        not_run.append(label)
                        continue
                    comp = stats.compare(va, vb)
                    verdict, reason = stats.verdict(comp, claim.direction)
                    checks.append(Check(label, ds, metric, verdict, reason, comp, None, ids_a, ids_b))
    return checks, not_run


def _speed_checks(claim: Claim, recs: list[RunRecord]) -> tuple[list[Check], list[str]]:
    limit = float(claim.params.get("max_seconds", "60"))
    checks, not_run = [], []
    for ds in claim.datasets:
        mine = _select(recs, claim, claim.a, ds, None)
        values, ids = by_seed(mine, "train_seconds")
        label = f"{_ds(ds)}, training time of {claim.a}"
        if not values:
            not_run.append(label)
            continue
        summary = stats.summarize(values.values())
        devices = sorted({str((r.get("env") or {}).get("device", "?")) for r in mine})
        if not all(d.startswith("cuda") for d in devices):
            verdict, reason = (
                stats.NO_VERDICT,
                (
                    f"trained on {', '.join(devices)}: the claim is about a GPU, "
                    f"so the measured {summary.mean:.1f} s gets no verdict"
                ),
            )
        elif summary.n < stats.MIN_N:
            verdict, reason = stats.INCONCLUSIVE, f"too few seeds (n={summary.n}; a verdict needs {stats.MIN_N})"
        elif summary.hi < limit:
            verdict, reason = stats.SUPPORTED, f"95 % interval of the mean below {limit:g} s"
        elif summary.lo > limit:
            verdict, reason = stats.CONTRADICTED, f"95 % interval of the mean above {limit:g} s"
        else:
            verdict, reason = stats.INCONCLUSIVE, f"95 % interval of the mean straddles {limit:g} s"
        checks.append(Check(label, ds, "train_seconds", verdict, reason, None, summary, ids, []))
    return checks, not_run


def machine_of(rec: RunRecord) -> str:
    """The machine a run's time was measured on (:func:`zslbench.environment.machine_text`)."""
    return machine_text(rec.get("env"))


def full_run(rec: RunRecord) -> bool:
    """A paper-profile run with its model's own options at their defaults (a shortened run, e.g.
    ``--set f-clswgan.nepoch=2``, times something else)."""
    if rec.get("profile") != "paper":
        return False
    options = rec.get("model_options") or {}
    if not options:
        return True
    from zslbench.models import MODELS  # the built-in models registered, whoever imports this

    entry = MODELS.get(rec["model"]) if rec.get("model") in MODELS else None
    if entry is None or not isinstance(entry.options, type) or not is_dataclass(entry.options):
        return False
    return options == asdict(entry.options())


def _ratio_checks(claim: Claim, recs: list[RunRecord]) -> tuple[list[Check], list[str]]:
    """a's training time over b's, from pairs of full runs (:func:`full_run`) of the same dataset,
    seed and machine:
    the 95 % t interval of the mean log ratio over the seeds, back on the ratio scale; supported
    when it lies at or above ``min_ratio``, contradicted when below, inconclusive otherwise or
    with fewer than MIN_N paired seeds."""
    limit = float(claim.params.get("min_ratio", "100"))
    checks, not_run = [], []
    recs = [r for r in recs if full_run(r)]
    for ds in claim.datasets:
        a_recs, b_recs = (_select(recs, claim, side, ds, None) for side in (claim.a, claim.b[0]))
        label = f"{_ds(ds)}, training time of {claim.a} / {claim.b[0]}"
        machines = sorted({machine_of(r) for r in a_recs} & {machine_of(r) for r in b_recs})
        if not machines:
            not_run.append(label)
            continue
        for machine in machines:
            va, ids_a = by_seed([r for r in a_recs if machine_of(r) == machine], "train_seconds")
            vb, ids_b = by_seed([r for r in b_recs if machine_of(r) == machine], "train_seconds")
            seeds = sorted(s for s in set(va) & set(vb) if va[s] > 0 and vb[s] > 0)
            if not seeds:
                not_run.append(f"{label} on {machine}")
                continue
            logs = [math.log(va[s] / vb[s]) for s in seeds]
            summary = stats.summarize(logs)
            ratio = math.exp(summary.mean)
            interval = (
                f"[{math.exp(summary.lo):.3g}, {math.exp(summary.hi):.3g}]x" if not math.isnan(summary.lo) else "—"
            )
            if summary.n < stats.MIN_N:
                verdict, reason = (
                    stats.INCONCLUSIVE,
                    (f"too few paired seeds (n={summary.n}; a verdict needs {stats.MIN_N})"),
                )
            elif math.exp(summary.lo) >= limit:
                verdict, reason = stats.SUPPORTED, f"95 % interval of the ratio at or above {limit:g}x"
            elif math.exp(summary.hi) < limit:
                verdict, reason = stats.CONTRADICTED, f"95 % interval of the ratio below {limit:g}x"
            else:
                verdict, reason = stats.INCONCLUSIVE, f"95 % interval of the ratio straddles {limit:g}x"
            checks.append(
                Check(
                    f"{label} on {machine}",
                    ds,
                    "train_seconds",
                    verdict,
                    reason,
                    None,
                    summary,
                    ids_a,
                    ids_b,
                    effect=f"{ratio:.3g}x",
                    interval=interval,
                )
            )
    return checks, not_run


CHECKERS = {"speed": _speed_checks, "speed_ratio": _ratio_checks}


def evaluate_claim(
    claim: Claim, recs: list[RunRecord], source: str = "", track: str | None = None, variant: str = ""
) -> ClaimResult:
    """One claim on one set of records of the same variant (a ratio claim: of one section)."""
    checks, not_run = CHECKERS.get(claim.kind, _compare_checks)(claim, recs)
    if not checks:
        return ClaimResult(claim, source, track, variant, stats.INCONCLUSIVE, "no runs for it", [], not_run)
    if claim.kind == "speed" and all(c.verdict == stats.NO_VERDICT for c in checks):
        return ClaimResult(
            claim,
            source,
            track,
            variant,
            stats.NO_VERDICT,
            "no run on a GPU: the measured times are shown without a verdict",
            checks,
            not_run,
        )
    verdicts = [c.verdict for c in checks if c.verdict != stats.NO_VERDICT]
    verdict = stats.combine(verdicts)
    counts = {v: verdicts.count(v) for v in dict.fromkeys(verdicts)}
    reason = f"{len(checks)} check{'s' if len(checks) != 1 else ''}: " + ", ".join(
        f"{n} {v}" for v, n in counts.items()
    )
    if not_run:
        reason += f"; {len(not_run)} not run"
    return ClaimResult(claim, source, track, variant, verdict, reason, checks, not_run)


def evaluate(results: Path, claims: list[Claim] | None = None) -> list[ClaimResult]:
    """Every claim on every (data section, variant) of `results` that has runs for it; a claim
    with no runs anywhere gets one inconclusive row."""
    claims = load_claims() if claims is None else claims
    out: list[ClaimResult] = []
    grouped = {}
    for kind in ("gzsl", "czsl"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            records, _ = collect(results, kind)
        grouped[kind] = group_records(records, kind)
    for claim in claims:
        found = []
        for sec, variants in grouped.get(claim.table, {}).items():
            # a claim about one model alone (speed) is judged on the section's base variant only
            judged = base_first(variants)[:1] if claim.kind == "speed" else variants
            candidates = [(label, recs) for _, label, recs in judged]
            if claim.kind == "speed_ratio":  # two models of different configs: the whole section
                candidates = [("", [r for _, _, recs in variants for r in recs])]
            for label, recs in candidates:
                res = evaluate_claim(claim, recs, sec[0], sec[1] if len(sec) > 1 else None, label)
                if res.checks:
                    found.append(res)
        out += found or [evaluate_claim(claim, [])]
    return out


def group_records(records: list[RunRecord], kind: str) -> dict[tuple, list[VariantGroup]]:
    """section -> [(Variant, its label, its records)], sections and variants in report order."""
    by_section: dict[tuple, list[RunRecord]] = {}
    for rec in records:
        by_section.setdefault(section_of(rec, kind), []).append(rec)
    out = {}
    for sec in sorted_sections(by_section):
        by_variant: dict[Variant, list[RunRecord]] = {}
        for rec in by_section[sec]:
            by_variant.setdefault(variant_of(rec, kind), []).append(rec)
        ordered = order_variants({v: len(r) for v, r in by_variant.items()})
        labels = label_variants(ordered)
        out[sec] = [(v, labels[v], by_variant[v]) for v in ordered]
    return out


def base_first(variants: list[VariantGroup]) -> list[VariantGroup]:
    """(Variant, label, records) items, the section's *base* variant first: the most runs, then the
    fewest options away from the paper's defaults, then report order."""
    return sorted(variants, key=lambda item: (-len(item[2]), len(item[0].paper_diff)))


def _ds(name: str) -> str:
    from zslbench.data.features.specs import DATASETS

    return DATASETS[name].display if name in DATASETS else name
