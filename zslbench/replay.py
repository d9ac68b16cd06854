"""Replaying a run from its record (`zslbench replay`, `zslbench run --from-record`) and
comparing the metrics with the recorded ones.

Three outcomes:
- ``exact``: every metric is bit-identical (what the same machine and numeric stack give);
- ``within_tolerance``: not bit-identical, but every metric is within its tolerance; the
  report says which parts of the recorded numeric environment differ from this one (another
  CPU instruction set, MKL version, torch, ... round differently, and training amplifies it);
- ``differs``: some metric is beyond its tolerance, or the data differ: a real difference.

A metric passes when |rerun - recorded| <= atol + rtol * |recorded|.  Default tolerances
are per metric, in the metric's own unit, as zslbench.metrics.registry defines it: percentage
points for the percent metrics, a fraction for CZSL forgetting; `seen_scale` is a setting,
compared exactly, and so is a metric nobody registered.  How they were chosen: docs/numerics.md#replays.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zslbench import store
from zslbench.environment import NOT_RECORDED, env_differences
from zslbench.errors import ConfigError, RecordError
from zslbench.metrics.registry import METRICS
from zslbench.records import RunRecord
from zslbench.tracks import RunOutcome, execute_run, track_of_record

# Default tolerances: each metric's own (zslbench.metrics.registry: by its unit, measured as said there).
DEFAULT_ATOL: dict[str, float] = {m.name: m.tolerance for m in METRICS.all()}
DEFAULT_RTOL: dict[str, float] = {m: 0.0 for m in DEFAULT_ATOL}


@dataclass(frozen=True)
class Tolerance:
    atol: float
    rtol: float

    def allows(self, recorded: float, rerun: float) -> bool:
        return abs(rerun - recorded) <= self.atol + self.rtol * abs(recorded)

    def __str__(self) -> str:
        parts = [f"atol {self.atol:g}"] + ([f"rtol {self.rtol:g}"] if self.rtol else [])
        return ", ".join(parts)


def parse_tolerances(option: str, items: Iterable[str]) -> tuple[float | None, dict[str, float]]:
    """`--atol`/`--rtol` values: a bare number (every metric, in its own unit) and/or
    METRIC=NUMBER items.  Returns (the bare number or None, {metric: number})."""
    everywhere: float | None = None
    per_metric: dict[str, float] = {}
    for item in items:
        for part in str(item).split(","):
            part = part.strip()
            if not part:
                continue
            key, sep, text = part.partition("=")
            if not sep:
                key, text = "", part
            try:
                value = float(text)
            except ValueError:
                raise ConfigError(f"{option} {part!r}: expected a number or METRIC=NUMBER") from None
            if not value >= 0 or math.isinf(value):
                raise ConfigError(f"{option} {part!r}: must be a finite number >= 0")
            if key:
                per_metric[key.strip()] = value
            else:
                everywhere = value
    return everywhere, per_metric


def tolerances_for(metrics: Iterable[str], atol: Iterable[str] = (), rtol: Iterable[str] = ()) -> dict[str, Tolerance]:
    """The tolerance of each metric: the defaults, overridden by --atol/--rtol.  A METRIC=
    item naming no metric of the record is refused (a typo would silently check nothing)."""
    metrics = list(metrics)
    a_all, a_per = parse_tolerances("--atol", atol)
    r_all, r_per = parse_tolerances("--rtol", rtol)
    for option, per in (("--atol", a_per), ("--rtol", r_per)):
        unknown = sorted(set(per) - set(metrics))
        if unknown:
            raise ConfigError(
                f"{option}: no metric {', '.join(map(repr, unknown))} in this record; its metrics: {', '.join(metrics)}"
            )
    out = {}
    for m in metrics:
        a = a_per.get(m, a_all if a_all is not None else METRICS.tolerance(m))
        r = r_per.get(m, r_all if r_all is not None else 0.0)
        out[m] = Tolerance(a, r)
    return out


@dataclass
class MetricCheck:
    name: str
    recorded: Any
    rerun: Any
    tolerance: Tolerance
    status: str  # "exact" | "within" | "differs"

    @property
    def difference(self) -> float | None:
        if _is_number(self.recorded) and _is_number(self.rerun):
            return float(self.rerun) - float(self.recorded)
        return None


@dataclass
class Comparison:
    checks: list[MetricCheck]
    same_data: bool
    env_diffs: list[tuple[str, Any, Any]] = field(default_factory=list)
    same_data_bits: bool | None = None  # the data's content hashes, where both records have one
    source_changes: list[str] = field(default_factory=list)  # a plugin's provenance, where it differs

    @property
    def verdict(self) -> str:
        if self.source_changes or not self.same_data or any(c.status == "differs" for c in self.checks):
            return "differs"
        if all(c.status == "exact" for c in self.checks):
            return "exact"
        return "within_tolerance"

    @property
    def exit_code(self) -> int:
        return 1 if self.verdict == "differs" else 0

    def by(self, status: str) -> list[MetricCheck]:
        return [c for c in self.checks if c.status == status]


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _identical(a: Any, b: Any) -> bool:
    if _is_number(a) and _is_number(b) and math.isnan(a) and math.isnan(b):
        return True
    return (a == b and type(a) is type(b)) or (_is_number(a) and _is_number(b) and float(a) == float(b))


def check_metric(name: str, recorded: Any, rerun: Any, tol: Tolerance) -> MetricCheck:
    if _identical(recorded, rerun):
        status = "exact"
    elif (
        _is_number(recorded)
        and _is_number(rerun)
        and math.isfinite(recorded)
        and math.isfinite(rerun)
        and tol.allows(float(recorded), float(rerun))
    ):
        status = "within"
    else:
        status = "differs"
    return MetricCheck(name, recorded, rerun, tol, status)


def compare_records(
    original: RunRecord, rerun: RunRecord, atol: Iterable[str] = (), rtol: Iterable[str] = ()
) -> Comparison:
    """Compare the rerun's record with the original one: every metric of the original, the
    data fingerprint, and the numeric environments."""
    recorded = dict(original.get("metrics") or {})
    new = dict(rerun.get("metrics") or {})
    tols = tolerances_for(recorded, atol, rtol)
    checks = []
    for name, value in recorded.items():
        if name not in new:
            checks.append(MetricCheck(name, value, None, tols[name], "differs"))
        else:
            checks.append(check_metric(name, value, new[name], tols[name]))
    same_data = rerun.get("data_fingerprint") == original.get("data_fingerprint")
    bits = None
    if original.get("data_content_sha256") and rerun.get("data_content_sha256"):
        bits = original["data_content_sha256"] == rerun["data_content_sha256"]
    return Comparison(
        checks, same_data, env_differences(original.get("env"), rerun.get("env")), bits, source_changes(original, rerun)
    )


def source_changes(original: RunRecord, rerun: RunRecord) -> list[str]:
    """How the rerun's plugin provenance differs from the record's, one line each (none for a
    built-in run, or an unchanged plugin)."""
    old, new = dict(original.get("plugin") or {}), dict(rerun.get("plugin") or {})
    if old == new:
        return []
    lines = [
        f"{key}: recorded {old.get(key)!r}, rerun {new.get(key)!r}"
        for key in ("module", "distribution", "version", "source_sha256")
        if old.get(key) != new.get(key)
    ]
    a, b = old.get("source_files"), new.get("source_files")
    if isinstance(a, dict) and isinstance(b, dict):
        changed = sorted(f for f in set(a) | set(b) if a.get(f) != b.get(f))
        if changed:
            lines.append(f"source files changed: {', '.join(changed)}")
    if old.get("options") != new.get("options"):
        lines.append(f"options: recorded {old.get('options')!r}, rerun {new.get('options')!r}")
    if original.get("run_id") and rerun.get("run_id") and original["run_id"] != rerun["run_id"]:
        lines.append(f"run id: recorded {original['run_id']}, rerun {rerun['run_id']}")
    return lines or ["the plugin fields of the records differ"]


def _fmt(x: Any) -> str:
    return f"{x!r}" if not _is_number(x) else repr(float(x)) if isinstance(x, float) else str(x)


def format_env_diffs(diffs: list[tuple[str, Any, Any]]) -> list[str]:
    lines = []
    for key, old, new in diffs:
        old_text = "not recorded" if old is NOT_RECORDED else _fmt(old)
        new_text = "not known here" if new is NOT_RECORDED else _fmt(new)
        lines.append(f"    {key}: recorded {old_text}, here {new_text}")
    return lines


def report_lines(cmp: Comparison) -> tuple[list[str], list[str]]:
    """(stdout lines, stderr lines) of the comparison's report."""
    out: list[str] = []
    err: list[str] = []
    if cmp.source_changes:  # first: it explains whatever follows
        out.append("  the plugin's source differs from the record's: the rerun is another run, not a replay")
        out += [f"    {line}" for line in cmp.source_changes]
    if not cmp.same_data:
        out.append("  the data differ from the record's (different data fingerprint)")
    elif cmp.same_data_bits is False:
        out.append(
            "  the data have the record's fingerprint but not its bits (synthetic data generated "
            "with another numpy BLAS?)"
        )
    for c in cmp.checks:
        if c.status == "exact":
            continue
        diff = c.difference
        delta = f", difference {diff:+.6g}" if diff is not None else ""
        what = "within tolerance" if c.status == "within" else "BEYOND tolerance"
        out.append(f"  {c.name}: recorded {_fmt(c.recorded)}, rerun {_fmt(c.rerun)}{delta} ({what}: {c.tolerance})")
    verdict = cmp.verdict
    if cmp.source_changes:  # the metrics' own verdict, beside the changed source
        verdict = Comparison(cmp.checks, cmp.same_data, cmp.env_diffs, cmp.same_data_bits).verdict
    exact_part = "  ".join(f"{c.name}={c.recorded:.4g}" for c in cmp.checks if _is_number(c.recorded))
    if verdict == "exact":
        out.append("  metrics match the record exactly: " + exact_part)
    elif verdict == "within_tolerance":
        out.append(
            f"  metrics match the record within tolerance, not exactly ({len(cmp.by('within'))} of "
            f"{len(cmp.checks)} metrics differ, each within its tolerance; --atol/--rtol, docs/numerics.md#replays)"
        )
    if cmp.env_diffs:
        out.append("  the numeric environment differs from the record's:")
        out += format_env_diffs(cmp.env_diffs)
    elif verdict != "exact" and cmp.same_data_bits is not False and not cmp.source_changes:
        out.append(
            "  the recorded numeric environment is the same as this one, where the same run id "
            "should give bit-identical numbers: an unexpected difference (see "
            "docs/numerics.md)"
        )
    if cmp.verdict == "differs":
        beyond = [c.name for c in cmp.by("differs")]
        reason = f"metrics beyond tolerance: {', '.join(beyond)}" if beyond else "the data differ"
        if cmp.source_changes:
            reason = "the plugin's source changed" + (f"; {reason}" if beyond or not cmp.same_data else "")
        err.append(f"MISMATCH: the rerun does not reproduce the record ({reason})")
    return out, err


@dataclass
class RerunReport:
    original: RunRecord
    outcome: RunOutcome
    comparison: Comparison

    @property
    def same_data(self) -> bool:
        return self.comparison.same_data

    @property
    def matches(self) -> bool:
        """Bit-identical metrics and the same data."""
        return self.comparison.verdict == "exact"

    @property
    def differences(self) -> dict:
        """metric -> (recorded, rerun) for every metric that is not bit-identical."""
        return {c.name: (c.recorded, c.rerun) for c in self.comparison.checks if c.status != "exact"}


def rerun_record(
    record_path: Path,
    results: Path,
    data_dir: Path | None = None,
    device: str = "cpu",
    progress: bool | None = None,
    atol: tuple[str, ...] = (),
    rtol: tuple[str, ...] = (),
) -> RerunReport:
    """Rerun the run a record describes, from its stored config, and compare the metrics
    (exact, within the tolerances --atol/--rtol, or different)."""
    original = store.read_record(Path(record_path))  # in the current schema (store.migrate)
    missing = [k for k in ("config", "seed", "dataset", "data_source") if k not in original]
    if missing:
        raise RecordError(f"{record_path}: the record has no {', '.join(missing)}: it cannot be rerun")
    try:
        track = track_of_record(original)
    except RecordError as exc:
        raise RecordError(f"{record_path}: {exc}") from None
    unknown = sorted(set(original["config"]) - track.config_fields())
    if unknown:
        raise RecordError(f"{record_path}: config has fields this zslbench does not know: {', '.join(unknown)}")
    tolerances_for(original["metrics"], atol, rtol)  # bad --atol/--rtol fail before training
    try:
        name, classnorm = track.run_args(original)
    except RecordError as exc:
        raise RecordError(f"{record_path}: {exc}") from None
    overrides = dict(original["config"])
    if "flush_denormal" in track.config_fields():  # a record's config without it: run without flushing
        overrides.setdefault("flush_denormal", False)
    plugin = original.get("plugin")
    if plugin:  # a plugin's run: the same plugin, already loaded (a record never decides what code runs)
        from zslbench.plugins import LOADED
        from zslbench.tracks import load_plugins

        load_plugins()  # the entry points' and $ZSLBENCH_PLUGINS' plugins: the user's choice
        module = plugin["module"]
        if module not in LOADED:
            raise RecordError(
                f"{record_path}: the run used plugin {module!r}, which is not loaded, and a record "
                f"never loads code: load it with `zslbench --plugin {module} ...`, $ZSLBENCH_PLUGINS "
                "or an entry point"
            )
        overrides.update({f"{name}.{k}": v for k, v in plugin.get("options", {}).items()})
    # a built-in model's own options (f-CLSWGAN)
    overrides.update({f"{name}.{k}": v for k, v in original.get("model_options", {}).items()})
    outcome = execute_run(
        track,
        name,
        original["dataset"],
        int(original["seed"]),
        classnorm,
        original.get("profile", "paper"),
        original["data_source"],
        data_dir,
        device,
        results,
        overrides,
        True,
        progress,
    )
    return RerunReport(original, outcome, compare_records(original, outcome.record, atol, rtol))
