"""Point references to the paper's protocol and to moved README sections at pages of docs/.

Code, tests and docs once cited the protocol as ``PAPER_SPEC section 9 item 18`` (a document
outside the repository) and README sections that now live in ``docs/``. This rewrites every such
reference, in every file git tracks or would track, into a link to a section of the docs site:

    PAPER_SPEC section 9 item 18   ->  docs/paper-protocol.md#pitfall-18
    PAPER_SPEC sections 1.2, 7.1   ->  docs/paper-protocol.md#czsl-images, #czsl-protocol
    README, Numerical reproducibility  ->  docs/numerics.md

In hand-written Markdown (README.md, docs/, any other README.md) the reference becomes a Markdown
link relative to the file; elsewhere (code, comments, docstrings, generated tables and their
golden copies) the plain path. ``tests/test_docs.py`` checks that every such path and anchor
exists.

    python tools/paper_protocol_refs.py           # rewrite in place, print the files changed
    python tools/paper_protocol_refs.py --check   # exit 1 and list what is left to rewrite
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROTOCOL = "docs/paper-protocol.md"
SELF = Path(__file__).resolve()

#: Section of the protocol (the numbering the old references use) -> anchor in docs/paper-protocol.md.
SECTIONS = {
    "1": "data",
    "1.1": "gbu-format",
    "1.2": "czsl-images",
    "2": "preprocessing",
    "3": "models",
    "3.1": "head",
    "3.2": "variants",
    "3.3": "class-norm",
    "3.4": "variance",
    "4": "gzsl-training",
    "5": "evaluation",
    "6": "logit-variance",
    "7": "czsl",
    "7.1": "czsl-protocol",
    "7.2": "czsl-methods",
    "7.3": "czsl-metrics",
    "8": "numbers",
    "8b": "claims",
    "9": "pitfalls",  # item N of section 9 -> "pitfall-N"
}
PITFALLS = range(1, 22)

_ONE = r"(?:(?:sections?|§)\s*)?\d+(?:\.\d+)?b?(?:-\d+(?:\.\d+)?)?(?:,?\s+items?\s+\d+(?:\s*(?:-|and)\s*\d+)?)?"
REF = re.compile(rf"PAPER_SPEC(?P<body>\s*{_ONE}(?:\s*(?:,|and)\s*{_ONE})*)")
# The same in LaTeX output (the tables' .tex files): PAPER\_SPEC \S{}9.
TEX_REF = re.compile(r"PAPER\\_SPEC\s*\\S\{\}\s*(?P<sec>\d+(?:\.\d+)?b?)")
PART = re.compile(
    r"(?:(?:sections?|§)\s*)?(?P<sec>\d+(?:\.\d+)?b?)(?:-(?P<sec_to>\d+(?:\.\d+)?))?"
    r"(?:,?\s+items?\s+(?P<item>\d+)(?:\s*(?P<op>-|and)\s*(?P<item_to>\d+))?)?"
)

#: Moved README sections: (pattern, replacement in code, docs target, link text in Markdown).
README_SECTIONS = [
    (re.compile(r'README, "(\s*)"Numerical reproducibility\)'), r'"\1"docs/numerics.md)', None, None),
    (re.compile(r"\(see README, Sweeps\)"), "(see docs/sweeps.md)", None, None),
    (re.compile(r"\(README, Numerical reproducibility\)"), "(docs/numerics.md)", None, None),
    (re.compile(r"README, Numerical reproducibility\."), "docs/numerics.md#replays.", None, None),
    (
        re.compile(r"\(benchmarks/stack_spread\.py, README\)"),
        "(benchmarks/stack_spread.py, docs/numerics.md#replays)",
        None,
        None,
    ),
    (re.compile(r"--atol/--rtol, README\)"), "--atol/--rtol, docs/numerics.md#replays)", None, None),
    (
        re.compile(r"\(see README\) or use --device cpu"),
        "(see docs/installation.md#gpu) or use --device cpu",
        None,
        None,
    ),
    (re.compile(r'\(README, "Synthetic data"\)'), "(docs/synthetic-data.md)", None, None),
    (re.compile(r"\(the data card in the README gives"), "(the data card, docs/synthetic-data.md, gives", None, None),
    (re.compile(r'\(README, "Reproduce with Docker"\)'), "(docs/installation.md#docker)", None, None),
    (
        re.compile(r'See the README, "Reproduce with\s+Docker"'),
        "See docs/installation.md#docker",
        "docs/installation.md#docker",
        "See the installation page, Docker",
    ),
    (re.compile(r"see README, shared machine"), "see benchmarks/README.md, Machine and load", None, None),
]


def anchors_of(body: str) -> list[str]:
    """The anchors a reference's body names, in order, without repeats."""
    out: list[str] = []
    for m in PART.finditer(body):
        sec, sec_to, item, op, item_to = m.group("sec", "sec_to", "item", "op", "item_to")
        if item is not None:
            if sec != "9":
                raise ValueError(f"items of section {sec} do not exist: {m.group(0)!r}")
            items = (
                [int(item)]
                if item_to is None
                else (list(range(int(item), int(item_to) + 1)) if op == "-" else [int(item), int(item_to)])
            )
            for i in items:
                if i not in PITFALLS:
                    raise ValueError(f"no pitfall {i}: {m.group(0)!r}")
                out.append(f"pitfall-{i}")
            continue
        secs = [sec] if sec_to is None else [str(s) for s in range(int(sec), int(float(sec_to)) + 1)]
        for s in secs:
            if s not in SECTIONS:
                raise ValueError(f"no section {s} in the paper's protocol: {m.group(0)!r}")
            out.append(SECTIONS[s])
    return list(dict.fromkeys(out))


def _label(anchor: str) -> str:
    if anchor.startswith("pitfall-"):
        return f"paper protocol, pitfall {anchor.removeprefix('pitfall-')}"
    number = next(k for k, v in SECTIONS.items() if v == anchor)
    return f"paper protocol §{number}"


def is_markdown_prose(path: Path) -> bool:
    """Hand-written Markdown gets links; generated tables (tests/fixtures/golden) keep plain text,
    as the code that writes them does."""
    rel = path.relative_to(ROOT).as_posix()
    return path.suffix == ".md" and not rel.startswith("tests/fixtures/golden/")


def rewrite(text: str, path: Path) -> str:
    markdown = is_markdown_prose(path)
    prefix = os.path.relpath(ROOT / "docs", path.parent).replace(os.sep, "/")

    def protocol(m: re.Match) -> str:
        anchors = anchors_of(m.group("body"))
        if markdown:
            page = "paper-protocol.md" if prefix == "." else f"{prefix}/paper-protocol.md"
            return ", ".join(f"[{_label(a)}]({page}#{a})" for a in anchors)
        return f"{PROTOCOL}#" + ", #".join(anchors)

    text = REF.sub(protocol, text)
    text = TEX_REF.sub(lambda m: f"{PROTOCOL}\\#" + ", \\#".join(anchors_of(m.group("sec"))), text)
    for pattern, plain, target, label in README_SECTIONS:
        if markdown and target is not None:
            link = f"[{label}]({os.path.relpath(ROOT / target.split('#')[0], path.parent)}#{target.split('#')[1]})"
            text = pattern.sub(link, text)
        else:
            text = pattern.sub(plain, text)
    return text


SKIP_DIRS = {
    ".git",
    ".venv",
    "venv",
    "results",
    "site",
    "build",
    "dist",
    "__pycache__",
    ".pytest_cache",
    ".hypothesis",
    "shared",
    "data",
    "wheelhouse",
}


def candidate_files() -> list[Path]:
    """The files git tracks or would track; without git (e.g. in the Docker image), the tree
    without local state."""
    try:
        names = (
            subprocess.run(
                ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
                cwd=ROOT,
                capture_output=True,
                check=True,
            )
            .stdout.decode()
            .split("\0")
        )
    except (OSError, subprocess.CalledProcessError):
        names = []
        for top, dirs, files in os.walk(ROOT):
            dirs[:] = [d for d in dirs if d not in SKIP_DIRS and not d.endswith(".egg-info")]
            names += [os.path.relpath(os.path.join(top, f), ROOT) for f in files]
    out = []
    for name in names:
        path = ROOT / name
        if not name or not path.is_file() or path.resolve() == SELF or path.suffix in (".png", ".pdf", ".npy", ".mat"):
            continue
        out.append(path)
    return out


def leftovers(text: str) -> list[str]:
    found = [m.group(0) for m in re.finditer(r"PAPER\\?_SPEC[^\n]{0,40}", text)]
    found += [m.group(0) for pattern, *_ in README_SECTIONS for m in pattern.finditer(text)]
    return found


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="list what is left to rewrite; exit 1 if anything is")
    args = ap.parse_args(argv)
    left = 0
    for path in candidate_files():
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue
        if args.check:
            for ref in leftovers(text):
                print(f"{path.relative_to(ROOT)}: {ref}")
                left += 1
            continue
        new = rewrite(text, path)
        if new != text:
            path.write_text(new)
            print(path.relative_to(ROOT))
    return 1 if left else 0


if __name__ == "__main__":
    sys.exit(main())
