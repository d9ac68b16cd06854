"""The `zslbench` commands, one module each: those that train (`run`, `sweep`, `replay`), and
`validate`, `list`, `data`, `table`, `plot` and `report`.  zslbench.cli adds them to its command group."""
