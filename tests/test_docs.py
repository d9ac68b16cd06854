"""The documentation: the MkDocs site builds strictly, every docs page or section named in the
code exists, and every `zslbench` command shown in the README and the docs is accepted by the CLI.

* The site is built once per session with ``mkdocs build --strict`` into a temporary folder;
  ``mkdocs.yml`` turns broken links, missing pages and missing anchors into warnings, which
  strict mode makes fatal.
* Code comments and docstrings (``zslbench/``, ``tests/``, ``benchmarks/``) and the README name
  docs pages as ``docs/<page>.md`` with an optional ``#<anchor>``; each page must exist and each
  anchor must be an ``id`` in the built page.
* Commands are taken from the fenced code blocks and the inline code of ``README.md``,
  ``REPRODUCIBILITY.md`` and ``docs/*.md``; each
  subcommand must exist in the click command tree, each ``--option`` shown must be an option of
  that subcommand, and each ``--set`` key a config field.
"""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import sys
from pathlib import Path

import click

from zslbench.cli import cli
from zslbench.config import CZSLConfig, CZSLImageConfig, GZSLConfig

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
CODE_DIRS = ("zslbench", "tests", "benchmarks")
COMMAND_SOURCES_EXCLUDED: set[str] = set()

# A docs page named in code or prose: docs/<name>.md with an optional #anchor, and more anchors of
# the same page after it as ", #anchor".
DOC_REF = re.compile(r"(?<![\w/.-])docs/([\w./-]+?\.md)(?:#([\w-]+)((?:,\s*#[\w-]+)*))?")
HTML_ID = re.compile(r"""\sid=["']([^"']+)["']""")


# --------------------------------------------------------------------------- the site


def test_site_builds_strictly_with_every_page(site):
    pages = sorted(p.relative_to(DOCS).with_suffix(".html") for p in DOCS.rglob("*.md"))
    assert pages, "docs/ has no pages"
    for page in pages:
        assert (site / page).is_file(), f"{page} was not built"
    api = (site / "api.html").read_text()
    # mkdocstrings rendered the docstrings, not just the headings
    assert "gzsl_scores" in api and "per-class accuracies" in api
    assert "GZSLConfig" in api and "select_epoch" in api
    assert ":func:" not in api and ":class:" not in api and ":meth:" not in api, "a Sphinx role shown as text"


# --------------------------------------------------------------------------- references in code


def page_anchors(site: Path, page: str) -> set[str]:
    html = site / Path(page).with_suffix(".html")
    return set(HTML_ID.findall(html.read_text())) if html.is_file() else set()


def broken_doc_refs(text: str, site: Path) -> list[str]:
    """The ``docs/...md#...`` references in ``text`` whose page or anchor does not exist."""
    broken = []
    for page, anchor, more in DOC_REF.findall(text):
        if not (DOCS / page).is_file():
            broken.append(f"docs/{page} (no such page)")
            continue
        for a in [anchor, *re.findall(r"#([\w-]+)", more)] if anchor else []:
            if a not in page_anchors(site, page):
                broken.append(f"docs/{page}#{a} (no such section)")
    return broken


def referring_files() -> list[Path]:
    files = [ROOT / "README.md", ROOT / "REPRODUCIBILITY.md"]
    for d in CODE_DIRS:
        files += sorted(p for p in (ROOT / d).rglob("*") if p.suffix in (".py", ".md") and p.is_file())
    # this file names missing pages on purpose, to test the checker
    return [f for f in files if f.is_file() and f != Path(__file__).resolve()]


def test_the_reference_checker_catches_a_missing_page_and_a_missing_section(site):
    ref = "docs/" + "paper-protocol.md#"
    assert broken_doc_refs(f"see {ref}pitfalls", site) == []
    assert broken_doc_refs(f"see {ref}no-such-section", site) == [f"{ref}no-such-section (no such section)"]
    assert broken_doc_refs("see docs/" + "no-such-page.md", site) == ["docs/no-such-page.md (no such page)"]
    assert broken_doc_refs(f"see {ref}pitfalls, #pitfall-3, #nope", site) == [f"{ref}nope (no such section)"]


def test_every_docs_page_named_in_code_and_readme_exists(site):
    problems = []
    for path in referring_files():
        for ref in broken_doc_refs(path.read_text(errors="replace"), site):
            problems.append(f"{path.relative_to(ROOT)}: {ref}")
    assert not problems, "references to docs pages or sections that do not exist:\n" + "\n".join(problems)


# --------------------------------------------------------------------------- commands shown


FENCE = re.compile(r"^\s*```[^\n]*\n(.*?)^\s*```", re.S | re.M)
INLINE = re.compile(r"(?<!`)`([^`\n]+(?:\n[^`\n]+)?)`(?!`)")
LONG_OPTION = re.compile(r"(?<![\w/.=-])--[a-z][a-z0-9-]*")
SET_KEY = re.compile(r"--set\s+\[?([a-z][a-z0-9_]*)=")
CONFIG_FIELDS = (
    {f.name for f in dataclasses.fields(GZSLConfig)}
    | {f.name for f in dataclasses.fields(CZSLConfig)}
    | {f.name for f in dataclasses.fields(CZSLImageConfig)}
    | {"key"}
)  # `--set key=value`
PIECE_SEP = re.compile(r"\s(?:&&|;|\||\|\|)\s")


def logical_lines(block: str) -> list[str]:
    """Lines of a code block, with ``\\`` continuations and indented synopsis lines joined."""
    out: list[str] = []
    for line in block.splitlines():
        if out and (out[-1].endswith("\\") or (line[:1].isspace() and line.lstrip().startswith(("[", "--")))):
            out[-1] = out[-1].rstrip("\\") + " " + line.strip()
        else:
            out.append(line)
    return out


def shown_commands(text: str) -> list[str]:
    """Every `zslbench ...` invocation in the fenced blocks and inline code of a Markdown text."""
    candidates = []
    for block in FENCE.findall(text):
        candidates += logical_lines(block)
    without_blocks = FENCE.sub("", text)
    candidates += [" ".join(span.split()) for span in INLINE.findall(without_blocks)]
    commands = []
    for line in candidates:
        line = re.sub(r"\s#(\s.*)?$", "", line)  # a shell comment
        for piece in PIECE_SEP.split(line):
            tokens = piece.split()
            for i, tok in enumerate(tokens):
                is_cli = tok == "zslbench" or tok.endswith("/zslbench") or tok.startswith("zslbench:")
                if not is_cli or i + 1 == len(tokens) or tokens[i + 1] == ".":
                    continue  # not an invocation: e.g. the image name of `docker build -t zslbench .`
                if "-t" in tokens[i - 1 : i] or "--entrypoint" in tokens[:i]:
                    continue  # an image tag, or the image run with another entrypoint
                commands.append(" ".join(["zslbench"] + tokens[i + 1 :]))
                break
    return commands


def cli_problems(command: str) -> list[str]:
    """What the CLI would not accept in a shown command: an unknown subcommand or option, or a
    positional value outside its choices."""
    tokens = command.split()[1:]
    cmd: click.Command = cli
    path = ["zslbench"]
    ctx = click.Context(cli)
    while isinstance(cmd, click.Group):
        if not tokens or tokens[0].startswith(("-", "[")):
            return []  # `zslbench --help`, `zslbench [...]`
        sub = cmd.get_command(ctx, tokens[0])
        if sub is None:
            alternatives = [t for t in tokens[0].split("|") if t]
            if len(alternatives) > 1 and all(cmd.get_command(ctx, t) for t in alternatives):
                sub = cmd.get_command(ctx, alternatives[0])  # `zslbench data check|fetch`
            else:
                return [f"`{' '.join(path)}` has no subcommand {tokens[0]!r}"]
        path.append(tokens.pop(0))
        cmd = sub
    known = {opt for p in cmd.params for opt in (*p.opts, *p.secondary_opts)}
    problems = [
        f"`{' '.join(path)}` has no option {opt}" for opt in LONG_OPTION.findall(" ".join(tokens)) if opt not in known
    ]
    for key in SET_KEY.findall(" ".join(tokens)):
        if key not in CONFIG_FIELDS:
            problems.append(f"`{' '.join(path)}`: --set {key}: no config field of that name")
    arguments = [p for p in cmd.params if isinstance(p, click.Argument)]
    if arguments and tokens and isinstance(arguments[0].type, click.Choice):
        word = tokens[0].strip("[]")
        if not word.startswith(("-", "<", ".")) and word != "...":
            for alt in word.split("|"):
                if alt not in arguments[0].type.choices:
                    problems.append(f"`{' '.join(path)}`: {alt!r} is not one of {list(arguments[0].type.choices)}")
    return problems


def command_sources() -> list[Path]:
    pages = [p for p in sorted(DOCS.rglob("*.md")) if p.name not in COMMAND_SOURCES_EXCLUDED]
    return [ROOT / "README.md", ROOT / "REPRODUCIBILITY.md", *pages]


def test_the_command_checker_catches_unknown_subcommands_options_and_choices():
    assert shown_commands("```bash\nzslbench run --all \\\n    --dry-run  # plan\n```") == [
        "zslbench run --all --dry-run"
    ]
    assert shown_commands("`docker build -t zslbench .` and `.venv/bin/zslbench list models`") == [
        "zslbench list models"
    ]
    assert cli_problems("zslbench run --czsl --method agem --no-cn --dataset cub") == []
    assert cli_problems("zslbench run --no-such-option") == ["`zslbench run` has no option --no-such-option"]
    assert cli_problems("zslbench run --set epochs=3 --set no_such_field=1") == [
        "`zslbench run`: --set no_such_field: no config field of that name"
    ]
    assert cli_problems("zslbench fly") == ["`zslbench` has no subcommand 'fly'"]
    assert cli_problems("zslbench data fetch --dataset cub-images") == []
    assert cli_problems("zslbench data check --from-zip x.zip") == ["`zslbench data check` has no option --from-zip"]
    assert cli_problems("zslbench table gzsl|czsl --format md") == []
    assert cli_problems("zslbench table gzsl|zsl") == ["`zslbench table`: 'zsl' is not one of ['gzsl', 'czsl']"]


def test_every_command_shown_in_the_docs_is_accepted_by_the_cli():
    problems = []
    count = 0
    for path in command_sources():
        if not path.is_file():
            continue
        for command in shown_commands(path.read_text()):
            count += 1
            problems += [f"{path.relative_to(ROOT)}: {command}\n    {p}" for p in cli_problems(command)]
    assert count >= 50, f"only {count} commands found: is the extraction broken?"
    assert not problems, "commands shown in the docs that the CLI does not accept:\n" + "\n".join(problems)


# --------------------------------------------------------------------------- commands run


def _documented_lines(page: Path, needle: str) -> list[str]:
    """The command lines (comments dropped) of the first fenced block of `page` holding `needle`."""
    block = next(b for b in FENCE.findall(page.read_text()) if needle in b)
    return [re.sub(r"\s+#(\s.*)?$", "", line).strip() for line in logical_lines(block) if line.strip()]


def _run_documented(line: str, env: dict) -> subprocess.CompletedProcess:
    words = line.split()
    if words[0] == "zslbench":
        words = [sys.executable, "-m", "zslbench", *words[1:]]
    elif words[0] in ("python", "python3"):
        words = [sys.executable, *words[1:]]
    return subprocess.run(words, capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)


def test_the_example_datasets_documented_commands_run_without_a_data_folder_set(tmp_path):
    """docs/extending.md: make_data writes where zslbench looks, so `data check` finds it; no
    $ZSLBENCH_DATA, no --data-dir (the user cache folder, here under a fresh $XDG_CACHE_HOME)."""
    env = {k: v for k, v in os.environ.items() if k not in ("ZSLBENCH_DATA", "ZSLBENCH_PLUGINS")}
    env.update(
        XDG_CACHE_HOME=str(tmp_path / "cache"),
        ZSLBENCH_PLUGINS="zslbench_example",
        PYTHONPATH=os.pathsep.join([str(ROOT / "examples" / "plugin"), env.get("PYTHONPATH", "")]),
    )
    lines = _documented_lines(DOCS / "extending.md", "make_data")
    assert lines[0].startswith("python -m zslbench_example.make_data")
    assert lines[1] == "zslbench data check --dataset toyfeat"
    made = _run_documented(lines[0], env)
    assert made.returncode == 0, made.stderr
    assert Path(made.stdout.strip()) == tmp_path / "cache" / "zslbench" / "toyfeat" / "features.npz"
    check = _run_documented(lines[1], env)
    assert check.returncode == 0, check.stderr
    assert re.search(r"^toyfeat\s.*\bok\s*$", check.stdout, re.M), check.stdout


def test_data_check_as_the_readme_shows_it_prints_rows_without_a_data_folder(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("ZSLBENCH_DATA", "ZSLBENCH_PLUGINS")}
    env["XDG_CACHE_HOME"] = str(tmp_path / "no-cache-yet")
    line = next(c for c in shown_commands((ROOT / "README.md").read_text()) if c == "zslbench data check")
    proc = _run_documented(line, env)
    assert proc.returncode == 0, proc.stderr
    rows = [r.split() for r in proc.stdout.splitlines()[2:]]
    assert {r[0] for r in rows} >= {"sun", "cub", "awa1", "awa2", "apy"}
    assert all(r[-1] == "missing" for r in rows)
