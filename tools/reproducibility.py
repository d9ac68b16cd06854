"""Write REPRODUCIBILITY.md: one row per number of the paper's own models and methods.

The paper's numbers come from ``baselines/paper_gzsl.csv`` and ``baselines/paper_czsl.csv`` (the
rows with a ``zslbench_model`` / ``zslbench_method``: the four MLP rows, the speed table and every
CZSL row; the competing GZSL methods are quoted by the paper, not run). What reproduces each
number and how far it has been verified comes from ``baselines/reproducibility.csv``, one line
per group of numbers; every number must fall in exactly one group. Each group also names what
ran to give it its status (``ran``: a command), on which date (``ran_on``) and at which commit
(``ran_commit``, the commit that recorded the result).

    python tools/reproducibility.py            # rewrite REPRODUCIBILITY.md
    python tools/reproducibility.py --check    # exit 1 when REPRODUCIBILITY.md is out of date
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = "REPRODUCIBILITY.md"

#: Verification status -> what it means (the order is the order of the summary).
STATUSES = {
    "real-data": "reproduced on the real data",
    "authors-code": "checked against the authors' own code on identical data",
    "synthetic-only": "the command ran on synthetic data only; the number itself is not reproduced",
    "needs-gpu-or-images": "not verifiable without a GPU or the raw images",
}

METRIC_LABELS = {"avg_train_time_s": "time, average", "train_time_s": "time (speed table)", "Forgetting": "Forgetting"}


def own_numbers(root: Path = ROOT) -> list[dict]:
    """The paper's numbers of its own models and methods, in the CSVs' order."""
    out = []
    with open(root / "baselines" / "paper_gzsl.csv", newline="") as f:
        for row in csv.DictReader(f):
            if row["zslbench_model"] and row["value"]:
                out.append(
                    {
                        "table": "gzsl",
                        "key": row["zslbench_model"],
                        "label": row["method"],
                        "dataset": row["dataset"],
                        "metric": row["metric"],
                        "value": row["value"],
                        "unit": row["unit"],
                    }
                )
    with open(root / "baselines" / "paper_czsl.csv", newline="") as f:
        for row in csv.DictReader(f):
            if row["zslbench_method"] and row["value"]:
                key = row["zslbench_method"] + ("+cn" if row["classnorm"] == "true" else "")
                out.append(
                    {
                        "table": "czsl",
                        "key": key,
                        "label": row["method"],
                        "dataset": row["dataset"],
                        "metric": row["metric"],
                        "value": row["value"],
                        "unit": row["unit"],
                    }
                )
    return out


def load_groups(root: Path = ROOT) -> list[dict]:
    with open(root / "baselines" / "reproducibility.csv", newline="") as f:
        groups = list(csv.DictReader(f))
    for i, g in enumerate(groups, start=1):
        if g["status"] not in STATUSES:
            raise ValueError(
                f"baselines/reproducibility.csv line {i + 1}: unknown status {g['status']!r}; "
                f"valid: {', '.join(STATUSES)}"
            )
        g["number"] = i
    return groups


def _matches(group: dict, number: dict) -> bool:
    return (
        group["table"] == number["table"]
        and number["key"] in group["key"].split(";")
        and number["dataset"] in group["dataset"].split(";")
        and number["metric"] in group["metric"].split(";")
    )


def group_of(number: dict, groups: list[dict]) -> dict:
    """The one group a number belongs to; a number in none or in several is an error."""
    found = [g for g in groups if _matches(g, number)]
    if len(found) != 1:
        where = "no group" if not found else f"groups {[g['number'] for g in found]}"
        raise ValueError(
            f"{number['table']} {number['key']} {number['dataset']} {number['metric']}: "
            f"in {where} of baselines/reproducibility.csv"
        )
    return found[0]


def command_for(number: dict, group: dict) -> str:
    base = number["key"].removesuffix("+cn") if number["table"] == "czsl" else number["key"]
    return group["command"].format(key=base, dataset=number["dataset"].lower())


def _value(number: dict) -> str:
    unit = {"%": "", "fraction": "", "s": " s"}.get(number["unit"], f" {number['unit']}")
    return number["value"] + unit


def _table(numbers: list[dict], groups: list[dict], first_column: str) -> list[str]:
    lines = [
        f"| {first_column} | dataset | metric | paper | verified | note | command (reproduces it) "
        "| status from (what ran) | on | commit |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for n in numbers:
        g = group_of(n, groups)
        dataset = "all four" if n["dataset"] == "ALL" else n["dataset"]
        lines.append(
            f"| `{n['key']}` | {dataset} | {METRIC_LABELS.get(n['metric'], n['metric'])} "
            f"| {_value(n)} | {g['status']} | {g['number']} | `{command_for(n, g)}` "
            f"| `{g['ran']}` | {g['ran_on']} | `{g['ran_commit']}` |"
        )
    return lines


def render(root: Path = ROOT) -> str:
    numbers = own_numbers(root)
    groups = load_groups(root)
    used = Counter(group_of(n, groups)["number"] for n in numbers)
    unused = [g["number"] for g in groups if g["number"] not in used]
    if unused:
        raise ValueError(f"baselines/reproducibility.csv: groups {unused} match none of the paper's numbers")
    status_counts = Counter(group_of(n, groups)["status"] for n in numbers)
    real = status_counts.get("real-data", 0)
    out = [
        "# Reproducibility of the paper's numbers",
        "",
        "<!-- Generated by `python tools/reproducibility.py` from baselines/paper_gzsl.csv,",
        "     baselines/paper_czsl.csv and baselines/reproducibility.csv: edit those, not this file. -->",
        "",
        "One row per number that the paper reports for its own models and methods: the paper's value,",
        "the command that reproduces it (after `zslbench data fetch` of the data it needs), and how far",
        "it has been verified. The competing GZSL methods of the paper's table are quoted from their",
        "papers and not rerun, so they have no row. The paper's rows are named by zslbench's keys",
        "(`mlp3`, `mlp3+eq9`, `mlp3+eq10`, `mlp3+cn` are the rows 3-layer MLP, with Eq. (9), with",
        "Eq. (10) and with CN; a CZSL method with `+cn` is its row with ClassNorm). GZSL values are",
        "percentages (U, S, H) or seconds; CZSL values are percentages (mAUC, mH, mJA) or a fraction",
        "(Forgetting). A sweep averages the profile's five seeds; `zslbench table gzsl|czsl` prints",
        "the mean, the std and the difference from the paper. Each row also says what ran to give it",
        'its status ("status from"), on which date, and the commit that recorded the result.',
        "",
        f"**Bottom line: {real} of the paper's {len(numbers)} numbers {'has' if real == 1 else 'have'} been "
        "reproduced on real data.**",
        "",
        "What the statuses mean, and how many of the paper's numbers each covers:",
        "",
        "| status | meaning | numbers |",
        "|---|---|---|",
    ]
    for status, meaning in STATUSES.items():
        out.append(f"| {status} | {meaning} | {status_counts.get(status, 0)} |")
    out += ["", f"{len(numbers)} numbers in all.", "", "## GZSL", ""]
    out += _table([n for n in numbers if n["table"] == "gzsl"], groups, "model")
    out += ["", "## Continual ZSL", ""]
    out += _table([n for n in numbers if n["table"] == "czsl"], groups, "method")
    out += ["", "## Notes", ""]
    for g in groups:
        out.append(f"{g['number']}. {g['note']}")
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help=f"exit 1 when {OUTPUT} is out of date")
    args = ap.parse_args(argv)
    text = render(ROOT)
    path = ROOT / OUTPUT
    if args.check:
        if not path.is_file() or path.read_text() != text:
            print(f"{OUTPUT} is out of date: run python tools/reproducibility.py", file=sys.stderr)
            return 1
        return 0
    path.write_text(text)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
