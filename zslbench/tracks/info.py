"""How the command line, the sweep planner and the reports name a track and time its runs:
:class:`TrackInfo`, one frozen value held by each track (``Track.info``).

Nothing here decides a run: a TrackInfo value never enters a config, a run id or a record, so
changing one (a better time estimate, another default dataset) leaves every run as it was.  What
a run is (its config, its id, its training, its record) is the :class:`~zslbench.tracks.base.Track`'s.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class TrackInfo:
    """What the CLI, the sweep and the reports know of a track besides its runs."""

    description: str  # one line: what the track's runs are
    name_option: str  # the sweep option that selects its models or methods: "--models", "--methods"
    grid_datasets: tuple[str, ...]  # the datasets the sweep plans when none are named
    table_kind: str  # the `zslbench table` kind whose sections hold its records: "gzsl", "czsl"
    # seconds per run when no record says better, per profile (a profile not listed: "paper")
    seconds: Mapping[str, float] = field(default_factory=dict)
    # the same per profile and dataset, where measured (a dataset not listed: `seconds`)
    dataset_seconds: Mapping[str, Mapping[str, float]] = field(default_factory=dict)

    def default_seconds(self, profile: str, dataset: str | None = None) -> float:
        """The time one run takes under `profile` (on `dataset`) before any run was measured."""
        per_dataset = self.dataset_seconds.get(profile if profile in self.seconds else "paper", {})
        if dataset is not None and dataset in per_dataset:
            return float(per_dataset[dataset])
        return float(self.seconds.get(profile, self.seconds.get("paper", 60.0)))

    def measured_on(self, profile: str, dataset: str) -> bool:
        """Whether `dataset`'s time under `profile` was measured (``dataset_seconds``)."""
        return dataset in self.dataset_seconds.get(profile, {})
