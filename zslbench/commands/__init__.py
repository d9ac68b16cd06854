"""The `zslbench` commands that train: `run` (one run, or with --all a sweep), `sweep` and
`replay`.  zslbench.cli adds them to its command group."""
