"""Planning a sweep: every track's grid (names x datasets x ClassNorm on/off x seeds), narrowed by
the filters, each run marked done or todo.

A run's id is known before it runs (it hashes the config and the data fingerprint:
zslbench.tracks.planned_run_id), so the plan knows which runs are done already.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from zslbench import store
from zslbench.errors import ConfigError
from zslbench.executors import Job, SweepSettings
from zslbench.tracks import BUILTIN, Track, all_tracks, get_track, planned_run_id

KINDS = tuple(dict.fromkeys(track.record_kind for track in BUILTIN))  # --only: "gzsl", "czsl"
# --tracks: the short names of the CZSL tracks, as before track keys existed
TRACK_ALIASES = {"features": "czsl-features", "images": "czsl-images"}


@dataclass
class Plan:
    settings: SweepSettings
    jobs: list[Job]
    seeds: tuple[int, ...]
    notes: list[str] = field(default_factory=list)

    def count(self, state: str) -> int:
        return sum(j.state == state for j in self.jobs)

    @property
    def to_run(self) -> list[Job]:
        return [j for j in self.jobs if j.state == "todo"]


def choose(option: str, given: list[str] | None, default, valid: list[str]) -> list[str]:
    """The names given for `option` (each checked against `valid`), else `default`."""
    if not given:
        return list(default)
    for name in given:
        if name not in valid:
            import difflib

            close = difflib.get_close_matches(name, valid, n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(f"{option}: unknown name {name!r}{hint}; valid: {', '.join(valid)}")
    return list(dict.fromkeys(given))


def select_tracks(names: list[str] | None) -> tuple[list[Track], set[str]]:
    """(the tracks --tracks selects, the keys it names).  Default: every track.  The old
    spellings ``features`` and ``images`` name CZSL tracks only: given alone, they leave the
    non-CZSL tracks as they were (selected, then narrowed by --only)."""
    tracks = all_tracks()
    if not names:
        return tracks, set()
    valid = [track.key for track in tracks] + list(TRACK_ALIASES)
    keys = [TRACK_ALIASES.get(n, n) for n in choose("--tracks", names, (), valid)]
    if all(n in TRACK_ALIASES for n in names):
        keys += [track.key for track in tracks if track.record_kind != "czsl"]
    named = {TRACK_ALIASES.get(n, n) for n in names}
    return [track for track in tracks if track.key in keys], named


def parse_sets(tracks: list[Track], sets) -> dict[str, dict]:
    """`--set key=value` items -> {track key: the typed overrides its config has}.  A key that no
    track's config has is an error naming it."""
    known = set().union(*(track.config_fields() for track in all_tracks()))
    for item in sets:
        key = item.split("=", 1)[0].strip()
        if "." in key and any(key.split(".", 1)[0] in track.names() for track in all_tracks()):
            continue  # a plugin's option (Track.parse_sets types it)
        if key not in known:
            from zslbench.config import parse_overrides

            parse_overrides(all_tracks()[0].config_cls, [item])  # raises naming the key
    return {track.key: track.parse_sets(sets) for track in tracks}


def plan_sweep(
    profile: str = "paper",
    *,
    models: list[str] | None = None,
    methods: list[str] | None = None,
    datasets: list[str] | None = None,
    seeds: list[int] | None = None,
    only: str | None = None,
    source: str = "auto",
    data_dir: Path | None = None,
    device: str = "cpu",
    results: Path | None = None,
    sets: list[str] | tuple[str, ...] = (),
    force: bool = False,
    preset: str | None = None,
    tracks: list[str] | None = None,
    ablate: list[str] | None = None,
    loggers: tuple = (),
) -> Plan:
    """Every selected track's grid narrowed by the filters, each run marked done or todo.
    ``preset`` is expanded under the ``sets``; an option that does not act on a run is left out of
    its id (zslbench.applicability), so a ``--set`` applies to the runs it acts on only.

    ``tracks``: track keys (default: all).  A track may leave a dataset out (the image track runs
    where the real images are in the data folder, on synthetic images only when named).
    ``ablate``: options flipped beside each run (zslbench.ablation)."""
    from zslbench.config import get_profile

    prof = get_profile(profile)
    if only is not None and only not in KINDS:
        raise ConfigError(f"--only {only!r}: expected gzsl or czsl")
    if only == "gzsl" and methods:
        raise ConfigError("--methods selects CZSL runs, but --only gzsl excludes them")
    if only == "czsl" and models:
        raise ConfigError("--models selects GZSL runs, but --only czsl excludes them")
    seeds_t = tuple(dict.fromkeys(int(s) for s in seeds)) if seeds else tuple(prof.seeds)
    if any(s < 0 for s in seeds_t):
        raise ConfigError(f"--seeds: seeds must be >= 0, got {','.join(map(str, seeds_t))}")
    selected, named = select_tracks(tracks)
    by_option = {"--models": models, "--methods": methods}
    given = {opt for opt, names in by_option.items() if names}
    # --only narrows by kind; naming models (methods) alone selects the tracks that run models (methods)
    selected = [
        track
        for track in selected
        if (only is None or track.record_kind == only)
        and (only is not None or not given or track.info.name_option in given)
    ]
    explicit = parse_sets(selected, sets)
    from zslbench.devices import check_run_options, for_device

    overrides = {
        track.key: for_device(device, track.with_preset(preset, explicit[track.key]), track.config_fields())
        for track in selected
    }

    for track in selected:  # bad values and options the device cannot honour fail before any work
        check_run_options(device, track.make_config(profile, overrides[track.key]))
    # absolute: SLURM tasks (and anything else) must find the same folders from anywhere
    results = (Path(results) if results is not None else store.default_results_dir()).absolute()
    data_dir = Path(data_dir).expanduser().absolute() if data_dir is not None else None
    settings = SweepSettings(
        profile, source, data_dir, device, results, force=force, overrides=overrides, loggers=tuple(loggers)
    )

    names = {
        track.key: choose(
            track.info.name_option, by_option.get(track.info.name_option), track.default_names(), track.names()
        )
        for track in selected
    }
    if datasets:
        valid = list(dict.fromkeys(d for track in all_tracks() for d in track.datasets()))
        datasets = choose("--datasets", datasets, (), valid)
    track_ds = {
        track.key: [d for d in (datasets or track.info.grid_datasets) if d in track.datasets()] for track in selected
    }
    if datasets and only == "czsl" and not any(track_ds.values()):
        czsl = sorted({d for track in selected for d in track.datasets()})
        raise ConfigError(f"--datasets: CZSL runs exist for {', '.join(czsl)} only")

    def state_of(rid: str) -> str:
        return "todo" if force or not store.is_done_and_valid(results, rid) else "done"

    notes: list[str] = []
    jobs: list[Job] = []
    # grouped by dataset (workers reuse loaded data), in the order of every track's datasets
    order = list(dict.fromkeys(d for track in all_tracks() for d in (datasets or track.info.grid_datasets)))
    for ds in order:
        for track in selected:
            if ds not in track_ds[track.key]:
                continue
            cfg = track.make_config(profile, overrides[track.key])
            skip = track.availability(ds, source, data_dir, cfg, track.key in named)
            if skip is not None:
                notes += [skip] if skip else []
                continue
            for name, cn in track.grid(names[track.key]):
                for seed in seeds_t:
                    rid = planned_run_id(track, name, ds, seed, cn, profile, source, data_dir, overrides[track.key])
                    jobs.append(
                        Job(track.record_kind, name, ds, seed, cn, rid, state_of(rid), track=track.record_track)
                    )
    if not jobs:
        raise ConfigError("no runs match the filters (--only/--models/--methods/--datasets/--tracks)")
    check_sets_act(jobs, explicit, profile, source, data_dir, settings)
    if ablate:
        from zslbench.ablation import ablation_jobs, parse_options

        options = parse_options(ablate, {get_track(j.track_key).config_cls for j in jobs})
        skipped: list[str] = []
        extra = ablation_jobs(jobs, options, settings, preset, explicit, state_of, skipped)
        notes.append(f"--ablate {','.join(options)}: {len(extra)} runs beside the {len(jobs)} of the grid")
        if skipped:
            notes.append(
                "--ablate: not planned, as the flipped run would act with the same setting and measure "
                "nothing: " + "; ".join(skipped)
            )
        jobs += extra
    return Plan(settings, jobs, seeds_t, notes)


def check_sets_act(jobs, explicit, profile, source, data_dir, settings) -> None:
    """A --set must act on at least one planned run (zslbench.applicability)."""
    pending = set().union(*explicit.values())
    cfgs: dict[str, dict] = {}
    for job in jobs:
        if not pending:
            return
        key = job.track_key
        track = get_track(key)
        if key not in cfgs:
            cfgs[key] = track.make_config(profile, settings.overrides_for(key)).to_dict()
        src = track.resolve_source(job.dataset, source, data_dir)
        traits = track.traits(job.name, job.classnorm, job.dataset, src)
        pending -= {k for k in explicit.get(key, ()) if track.set_accepted(k, traits, cfgs[key])}
    if pending:
        raise ConfigError(f"--set {', '.join(sorted(pending))}: acts on none of the planned runs")


def data_sources(plan: Plan) -> list[str]:
    """One line per track and dataset of the plan: the data its runs will load (the resolved
    `--data`: with `auto`, xlsa17 where its files are found, else SYNTHETIC)."""
    from zslbench.data import default_data_dir

    settings = plan.settings
    where = f" from {settings.data_dir if settings.data_dir is not None else default_data_dir()}"
    seen: dict[tuple, str] = {}
    for job in plan.jobs:
        key = (job.track_key, job.dataset)
        if key not in seen:
            seen[key] = get_track(job.track_key).resolve_source(job.dataset, settings.source, settings.data_dir)
    lines = []
    for (track_key, ds), src in seen.items():
        text = "SYNTHETIC data (not the real data)" if src == "synthetic" else f"{src}{where}"
        lines.append(f"data: {track_key} {ds}: {text}")
    return lines
