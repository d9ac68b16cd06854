"""`zslbench run --all --ablate OPTION[,OPTION...]`: beside each planned run, the same run with
one option flipped.

The alternatives of an option: every other value of a field with a fixed set of choices; the
negation of a bool; 1.0 and 0.95 for ``seen_logit_scale``; ``NAME=VALUE`` flips to one given
value.  ``preset`` flips the whole preset (``colab`` <-> ``code``) except the fields set with
``--set``.  A flip is planned only where the option acts on the run (zslbench.applicability)
and changes the setting the run acts with: a flip whose resolved value equals the run's (e.g.
``seen_logit_scale=1.0`` on CUB, where ``colab_rule`` already means 1.0) measures nothing and is
skipped, and the plan says so.  The flipped run has its own run id, so it is resumed and skipped like
any other.  The report (zslbench.report.effects) pairs each flipped run with its base run by
seed and shows the change of H and AUSUC (mH and mAUC for CZSL).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from zslbench.errors import ConfigError

PRESET = "preset"
# seen_logit_scale is a free field ("colab_rule" or a number): its alternatives are the two
# constant factors of the authors' work (docs/paper-protocol.md#pitfall-2).
FIXED_ALTERNATIVES = {"seen_logit_scale": ("1.0", "0.95")}


@dataclass(frozen=True)
class Flip:
    option: str  # a config field, or "preset"
    value: str  # the new value (or preset name), as text
    overrides: Mapping[str, Any]  # the fields to set on top of the run's own overrides

    @property
    def label(self) -> str:
        return f"{self.option}={self.value}"


def resolved(config_cls: type, cfg: Mapping[str, Any], name: str, value: Any, dataset: str | None) -> str:
    """The setting a run on `dataset` acts with when `name` is `value`: ``seen_logit_scale``
    resolves to its factor on the dataset (config.seen_factor); any other option is its value."""
    if name == "seen_logit_scale" and dataset and hasattr(config_cls, "seen_factor"):
        try:
            return repr(float(config_cls(**{**cfg, name: value}).seen_factor(dataset)))
        except (TypeError, ValueError, ConfigError):
            pass
    return str(value)


def _field(cls: type, name: str):
    return next((f for f in dataclasses.fields(cls) if f.name == name), None)


def alternatives(cls: type, name: str, current: Any) -> list[Any]:
    """The values `name` is flipped to from `current` (ConfigError where none are known)."""
    f = _field(cls, name)
    if f is None:
        raise ConfigError(f"--ablate {name}: not an option of {cls.__name__}")
    if name in FIXED_ALTERNATIVES:
        return [v for v in FIXED_ALTERNATIVES[name] if str(v) != str(current)]
    choices = f.metadata.get("choices")
    if choices:
        return [c for c in choices if c != current]
    if f.type in (bool, "bool"):
        return [not current]
    raise ConfigError(
        f"--ablate {name}: no alternatives known for this option (it has no fixed choices); give one as {name}=VALUE"
    )


def parse_options(items: Iterable[str], classes: Iterable[type]) -> list[str]:
    """Check the --ablate items against the config classes of the planned runs."""
    classes = list(classes)
    names = sorted({f.name for cls in classes for f in dataclasses.fields(cls)})
    out = []
    for item in items:
        name = item.split("=", 1)[0].strip()
        if name == PRESET and "=" not in item:
            out.append(PRESET)
            continue
        if name not in names:
            import difflib

            close = difflib.get_close_matches(name, names + [PRESET], n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(f"--ablate: unknown option {name!r}{hint}")
        if "=" not in item:  # fails now for a field without known alternatives
            cls = next(c for c in classes if _field(c, name) is not None)
            alternatives(cls, name, getattr(cls(), name))
        out.append(item.strip())
    return list(dict.fromkeys(out))


def flips(
    options: Iterable[str],
    table: str,
    config_cls: type,
    kind: str,
    traits: Mapping[str, Any],
    cfg: Mapping[str, Any],
    preset: str | None,
    explicit: Iterable[str] = (),
    dataset: str | None = None,
    skipped: list[str] | None = None,
) -> list[Flip]:
    """The flipped variants of one run (a pure function of its traits and config).

    table: its applicability table (gzsl, czsl-features, czsl-images; empty: every field acts); kind: gzsl or czsl (the preset's
    side); cfg: its complete config as a dict; explicit: the fields set with --set; dataset: the run's
    dataset, against which values resolve (see `resolved`); skipped: where given, gets a line for each
    flip left out because the run already acts with its value."""
    from zslbench import applicability
    from zslbench.config import parse_overrides

    def acts(table: str, name: str, traits: Mapping[str, Any], cfg: Mapping[str, Any]) -> bool:
        return not table or applicability.acts(table, name, traits, cfg)

    from zslbench.presets import DEFAULT_PRESET, PRESETS

    explicit = set(explicit)
    out: list[Flip] = []
    for option in options:
        if option == PRESET:
            other = "code" if (preset or DEFAULT_PRESET) != "code" else "colab"
            fields = {k: v for k, v in PRESETS[other].fields(kind).items() if k not in explicit and k in cfg}
            changed = {k: v for k, v in fields.items() if str(cfg[k]) != str(v) and acts(table, k, traits, cfg)}
            if any(
                resolved(config_cls, cfg, k, v, dataset) != resolved(config_cls, cfg, k, cfg[k], dataset)
                for k, v in changed.items()
            ):
                out.append(Flip(PRESET, other, fields))
            elif changed and skipped is not None:
                skipped.append(f"preset={other} on {dataset}: its changes resolve to the run's own settings there")
            continue
        name = option.split("=", 1)[0].strip()
        if _field(config_cls, name) is None or not acts(table, name, traits, cfg):
            continue
        if "=" in option:
            values = list(parse_overrides(config_cls, [option]).values())
        else:
            values = alternatives(config_cls, name, cfg[name])
        for value in values:
            if str(value) == str(cfg[name]):
                continue
            now = resolved(config_cls, cfg, name, cfg[name], dataset)
            if resolved(config_cls, cfg, name, value, dataset) != now:
                out.append(Flip(name, _text(value), {name: value}))
            elif skipped is not None:
                skipped.append(
                    f"{name}={_text(value)} on {dataset}: the run's {name}={_text(cfg[name])} "
                    f"already resolves to {now} there"
                )
    return out


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def ablation_jobs(
    jobs: list,
    options: list[str],
    settings,
    preset: str | None,
    explicit: Mapping[str, Iterable[str]],
    state_of: Callable[[str], str],
    skipped: list[str] | None = None,
) -> list:
    """The extra sweep jobs (zslbench.executors.Job) that flip each option beside each job;
    `skipped`, where given, gets one line per flip left out because it would change nothing."""
    from zslbench.tracks import get_track, planned_run_id

    seen = {j.run_id for j in jobs}
    cfgs: dict[str, dict] = {}
    out = []
    acted: set[str] = set()
    left_out: list[str] = []
    for job in jobs:
        key = job.track_key
        track = get_track(key)
        base = dict(settings.overrides_for(key))
        if key not in cfgs:
            cfgs[key] = track.make_config(settings.profile, base).to_dict()
        src = track.resolve_source(job.dataset, settings.source, settings.data_dir)
        traits = track.traits(job.name, job.classnorm, job.dataset, src)
        table = track.applicability_table
        for option, flip in (
            (o, f)
            for o in options
            for f in flips(
                [o],
                table,
                track.config_cls,
                job.kind,
                traits,
                cfgs[key],
                preset,
                explicit.get(key, ()),
                job.dataset,
                left_out,
            )
        ):
            acted.add(option)
            rid = planned_run_id(
                track,
                job.name,
                job.dataset,
                job.seed,
                job.classnorm,
                settings.profile,
                settings.source,
                settings.data_dir,
                {**base, **flip.overrides},
            )
            if rid in seen:
                continue
            seen.add(rid)
            out.append(
                dataclasses.replace(
                    job,
                    run_id=rid,
                    state=state_of(rid),
                    overrides=tuple(sorted(flip.overrides.items())),
                    ablation=flip.label,
                )
            )
    if skipped is not None:
        skipped += list(dict.fromkeys(left_out))
    idle = [o for o in options if o not in acted]
    if idle:
        raise ConfigError(f"--ablate {', '.join(idle)}: changes none of the planned runs")
    return out
