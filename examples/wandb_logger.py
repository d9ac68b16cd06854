"""A Weights & Biases logger for zslbench, written against zslbench.api only (not part of the
package, and not run by the test suite).

Use it as a plugin, with this folder on the Python path and ``pip install wandb``:

    PYTHONPATH=examples zslbench --plugin wandb_logger run --model mlp3+cn --dataset sun --log wandb

or from Python: ``zslbench.run(..., log=[WandbLogger()])``.  The project is ``$WANDB_PROJECT``
(default ``zslbench``); ``WANDB_MODE=offline`` keeps the runs on the disk.  Each zslbench run
becomes one W&B run: its options as the config, one step per epoch (or CZSL task), the final
metrics in the summary and record.json as an artifact.
"""

from __future__ import annotations

import os

from zslbench.api import LOGGERS, LoggedRun, RunLogger, register_logger


class WandbLogger(RunLogger):
    def log_run(self, run: LoggedRun) -> None:
        import wandb

        wb = wandb.init(
            project=os.environ.get("WANDB_PROJECT", "zslbench"),
            name=run.label,
            config=dict(run.params),
            tags=[run.record.get("kind", "run")],
            job_type="zslbench",
        )
        try:
            for row in run.epochs.to_dict("records"):
                values = {k: v for k, v in row.items() if k != "step" and isinstance(v, (int, float))}
                wb.log(values, step=int(row["step"]))
            wb.summary.update({f"final/{k}": v for k, v in run.metrics.items() if isinstance(v, (int, float))})
            wb.summary["zslbench_run_id"] = run.run_id
            artifact = wandb.Artifact(f"record-{run.run_id}", type="zslbench-record")
            artifact.add_file(str(run.folder / "record.json"))
            wb.log_artifact(artifact)
        finally:
            wb.finish()


if "wandb" not in LOGGERS:
    register_logger("wandb", WandbLogger)
