"""How long a plan's missing runs will take, and the plan as text (`run --all --dry-run`)."""

from __future__ import annotations

import math
import warnings

from zslbench import store
from zslbench.progress import duration
from zslbench.sweep.plan import Plan
from zslbench.tracks import get_track


def estimate_seconds(plan: Plan) -> dict[tuple[str, str, str], float]:
    """Expected seconds per (track, name, dataset) from the done records of the same track and
    profile (mean train + eval time): the run's own model/method on its dataset, else what the
    model/method declares it takes (Track.name_seconds: f-CLSWGAN's hours are not the other
    models' minutes), else the track's runs on that dataset, else the track's measured default
    for the dataset
    (TrackInfo.dataset_seconds), else the track's mean, else its default for the profile
    (TrackInfo.seconds)."""
    per_key: dict[tuple[str, str, str], list[float]] = {}
    per_dataset: dict[tuple[str, str], list[float]] = {}
    per_track: dict[str, list[float]] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for rec in store.iter_records(plan.settings.results):
            if rec.get("profile") != plan.settings.profile or "train_seconds" not in rec:
                continue
            key = store.record_track_key(rec)
            secs = float(rec.get("train_seconds") or 0) + float(rec.get("eval_seconds") or 0)
            name = rec.get("model") if rec.get("kind") == "gzsl" else rec.get("method")
            per_key.setdefault((key, str(name), str(rec.get("dataset"))), []).append(secs)
            per_dataset.setdefault((key, str(rec.get("dataset"))), []).append(secs)
            per_track.setdefault(key, []).append(secs)
    out: dict[tuple[str, str, str], float] = {}
    for job in plan.to_run:
        job_key = (job.track_key, job.name, job.dataset)
        track = get_track(job.track_key)
        info = track.info
        measured = info.measured_on(plan.settings.profile, job.dataset)
        own = track.name_seconds(job.name, plan.settings.profile, job.dataset)
        for found in (
            per_key.get(job_key),
            None if own is None else [own],
            per_dataset.get((job.track_key, job.dataset)),
            None if measured else per_track.get(job.track_key),
        ):
            if found:
                out[job_key] = sum(found) / len(found)
                break
        else:
            out[job_key] = info.default_seconds(plan.settings.profile, job.dataset)
    return out


def time_left(plan: Plan, parallel: int) -> float:
    est = estimate_seconds(plan)
    total = sum(est[(j.track_key, j.name, j.dataset)] for j in plan.to_run)
    return total / max(1, min(parallel, len(plan.to_run) or 1))


def beyond_time_limit(plan: Plan, limit_minutes: int) -> str | None:
    """A note when a run of the plan is expected to outlast a per-run time limit (a SLURM
    job's): the longest such run, its estimate and the limit; None when every run fits.  The
    estimates are CPU times (a GPU run is far shorter), so a plan on a GPU gets no note."""
    if not plan.to_run or plan.settings.device != "cpu":
        return None
    est = estimate_seconds(plan)
    key, longest = max(est.items(), key=lambda item: item[1])
    if longest <= limit_minutes * 60:
        return None
    over = sum(1 for j in plan.to_run if est[(j.track_key, j.name, j.dataset)] > limit_minutes * 60)
    hours = math.ceil(longest * 1.5 / 3600)
    return (
        f"{over} run(s) expected to outlast --slurm-time {limit_minutes} (minutes), the longest {key[1]} on "
        f"{key[2]} at about {fmt_seconds(longest)} on a CPU: SLURM stops a task at its limit (a run that saves "
        f"its state, as f-clswgan does, continues when the sweep is run again; any other starts over); pass "
        f"--slurm-time {hours}:00:00 or more"
    )


def fmt_seconds(s: float) -> str:
    """An estimate as the plan writes it (rounded up): ``42s``, ``7m05s``, ``2h14m``."""
    return duration(math.ceil(s))


def format_plan(plan: Plan, parallel: int, executor: str) -> str:
    from tabulate import tabulate

    n_gz = sum(j.kind == "gzsl" for j in plan.jobs)
    n_cz = len(plan.jobs) - n_gz
    lines = [
        f"plan: {len(plan.jobs)} runs ({n_gz} GZSL, {n_cz} CZSL), profile {plan.settings.profile}, "
        f"seeds {','.join(map(str, plan.seeds))}, results {plan.settings.results}",
    ]
    counts = {s: plan.count(s) for s in ("done", "todo")}
    parts = [f"{counts['done']} done", f"{counts['todo']} to run"]
    lines.append("state: " + ", ".join(parts))
    if plan.to_run:
        where = f"{parallel} parallel job(s)" if executor == "local" else "SLURM (one array task per run)"
        lines.append(
            f"estimated time left: {fmt_seconds(time_left(plan, parallel))} on {where} "
            "(from the records' train_seconds where there are any, else a measured per-dataset default)"
        )
    lines += [f"note: {n}" for n in plan.notes]
    rows = [
        [
            j.kind if j.track in (None, "features") else f"{j.kind}/{j.track}",
            j.name + (f" [{j.ablation}]" if j.ablation else ""),
            "" if j.classnorm is None else ("cn" if j.classnorm else "no-cn"),
            j.dataset,
            j.seed,
            j.run_id or "-",
            j.state,
        ]
        for j in plan.jobs
    ]
    lines.append(tabulate(rows, headers=["kind", "model/method", "cn", "dataset", "seed", "run_id", "state"]))
    return "\n".join(lines)
