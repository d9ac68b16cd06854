"""`zslbench list [WHAT]`: the registered models, CZSL methods, datasets, profiles and presets."""

from __future__ import annotations

import click


@click.command("list")
@click.argument("what", required=False, type=click.Choice(["models", "methods", "datasets", "profiles", "presets"]))
def list_cmd(what: str | None) -> None:
    """List the registered models, CZSL methods, datasets, profiles or presets."""
    from zslbench.api import FEATURE_DATASETS
    from zslbench.config import PROFILES
    from zslbench.data.features.specs import DATASETS
    from zslbench.models import MODELS
    from zslbench.plugins import source_text
    from zslbench.presets import DEFAULT_PRESET, PRESETS

    sections = {
        "models": [(n, f"[{source_text(MODELS.get(n).source)}] {MODELS.get(n).description}") for n in MODELS],
        "datasets": [
            (
                n,
                f"[built-in] {s.display}: {s.n_classes} classes ({s.n_seen} seen / {s.n_unseen} unseen), "
                f"{s.attr_dim} attributes, {s.n_images} images",
            )
            for n, s in DATASETS.items()
        ]
        + [
            (n, f"[{source_text(d.source)}] {d.description or d.display} (features.npz)")
            for n, d in ((n, FEATURE_DATASETS.get(n)) for n in FEATURE_DATASETS)
        ],
        "profiles": [(p.name, p.description) for p in PROFILES.values()],
        "presets": [
            (
                p.name,
                ("(default) " if p.name == DEFAULT_PRESET else "")
                + p.description
                + "; sets "
                + " ".join(f"{k}={_flag(v)}" for k, v in p.gzsl.items()),
            )
            for p in PRESETS.values()
        ],
    }
    try:
        from zslbench.train.czsl import CZSL_METHODS  # available once CZSL is installed

        sections["methods"] = [
            (n, f"[{source_text(CZSL_METHODS.get(n).source)}] {CZSL_METHODS.get(n).description}") for n in CZSL_METHODS
        ]
    except ImportError:
        sections["methods"] = []
    for name in [what] if what else list(sections):
        click.echo(f"{name}:")
        if not sections[name]:
            click.echo("  (none)")
        for key, desc in sections[name]:
            click.echo(f"  {key:<12} {desc}")


def _flag(value) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)
