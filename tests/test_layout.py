"""The shape of the package, read from its source with `ast` (nothing is imported):

* the package's own imports form no circle, counting the imports inside functions too (a lazy
  import that hides a circle is still one);
* no module imports from a higher layer (LAYERS: data flows one way, from the data to the
  models, the trainers, the tracks, the sweep and the reports, up to the command line);
* no module is longer than MAX_LINES;
* no private name (``_name``) is imported from another module, or read as an attribute of an
  imported module.

A module's layer is that of its top-level name under zslbench/ (zslbench/data/images/cache.py is
in the layer of ``data``), so sub-packages are covered as they are added; a new top-level module
or package must be given a layer here.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "zslbench"
MAX_LINES = 450

# Lowest first; a module may import from its own layer (without a circle) and the ones below.
LAYERS: list[set[str]] = [
    {"errors"},
    {
        "registry",
        "records",
        "api",
        "plugins",
        "config",
        "presets",
        "devices",
        "numerics",
        "subnormal",
        "locks",
        "progress",
        "interrupt",
        "metrics",
        "loggers",
        "overrides",
        "environment",
        "allocator",
        "process",
        "checkpoints",
    },
    {"store", "schema"},
    {"data"},
    {"models"},
    {"applicability"},
    {"train"},
    {"tracks"},
    {"replay", "executors", "ablation"},
    {"sweep"},
    {"report"},
    {"commands", "library", "cli", "__main__", "__init__"},
]
LAYER = {name: i for i, names in enumerate(LAYERS) for name in names}


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = ("zslbench",) + path.relative_to(PACKAGE).with_suffix("").parts
        if parts[-1] == "__init__" and len(parts) > 1:
            parts = parts[:-1] if len(parts) > 2 else ("zslbench", "__init__")
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _top(module: str) -> str:
    return module.split(".")[1]


def _resolve(name: str) -> str | None:
    """The module a dotted name refers to (itself, or the package holding the name)."""
    while name and name not in MODULES:
        if name == "zslbench":
            return "zslbench.__init__"
        name = name.rpartition(".")[0]
    return name or None


def _imports(module: str) -> list[tuple[str, int, str | None]]:
    """(imported module, line, name taken from it or None) for every import of zslbench code."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "zslbench":
                    out.append((_resolve(alias.name), node.lineno, None))
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module.split(".")[0] != "zslbench":
                continue
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                if sub in MODULES:  # `from zslbench.report import baselines`: the module itself
                    out.append((sub, node.lineno, None))
                else:
                    out.append((_resolve(node.module), node.lineno, alias.name))
    return [(m, line, name) for m, line, name in out if m is not None and m != module]


GRAPH = {m: _imports(m) for m in MODULES}


def _is_parent(package: str, module: str) -> bool:
    """A package's __init__ runs before its modules: importing it from inside is no circle."""
    return module.startswith(package + ".")


def test_every_top_level_name_has_a_layer():
    assert {_top(m) for m in MODULES} - set(LAYER) == set()


def test_no_import_goes_to_a_higher_layer():
    upward = [
        f"{MODULES[m].relative_to(PACKAGE.parent)}:{line} imports {target} "
        f"(layer {LAYER[_top(target)]} > {LAYER[_top(m)]})"
        for m, imports in GRAPH.items()
        for target, line, _ in imports
        if LAYER[_top(target)] > LAYER[_top(m)]
    ]
    assert upward == []


def find_circles(edges: dict[str, list[str]]) -> list[list[str]]:
    state: dict[str, int] = {}  # 1: on the stack, 2: done
    circles: list[list[str]] = []

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in edges.get(node, ()):
            if state.get(nxt) == 1:
                circles.append(stack[stack.index(nxt) :] + [nxt])
            elif nxt not in state:
                visit(nxt, stack)
        stack.pop()
        state[node] = 2

    for module in sorted(edges):
        if module not in state:
            visit(module, [])
    return circles


def test_no_import_circle():
    edges = {m: sorted({t for t, _, _ in imports if not _is_parent(t, m)}) for m, imports in GRAPH.items()}
    assert find_circles(edges) == []


def test_the_circle_check_finds_a_circle():
    assert find_circles({"a": ["b"], "b": ["c"], "c": ["a"], "d": ["a"]}) == [["a", "b", "c", "a"]]
    assert find_circles({"a": ["b"], "b": [], "c": ["a", "b"]}) == []


# Modules that break a rule today and are to be split; strict: an entry fails as soon as its
# module keeps the rule, so that the lists only shrink.
KNOWN_LONG: set[str] = set()
KNOWN_PRIVATE: set[str] = set()


def _params(modules, known):
    return [
        pytest.param(m, marks=pytest.mark.xfail(strict=True, reason="known, to be split")) if m in known else m
        for m in sorted(modules)
    ]


@pytest.mark.parametrize("module", _params(MODULES, KNOWN_LONG))
def test_module_is_not_too_long(module):
    lines = len(MODULES[module].read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{MODULES[module].relative_to(PACKAGE.parent)}: {lines} lines (at most {MAX_LINES})"


@pytest.mark.parametrize("module", _params(MODULES, KNOWN_PRIVATE))
def test_no_private_name_is_imported_across_modules(module):
    found = [
        f"{MODULES[module].relative_to(PACKAGE.parent)}:{line} takes {name} from {target}"
        for target, line, name in GRAPH[module]
        if name is not None and name.startswith("_") and not name.startswith("__")
    ]
    path = MODULES[module]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    aliases = set()  # names bound to zslbench modules by an import
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            aliases |= {a.asname or a.name.split(".")[0] for a in node.names if a.name.startswith("zslbench")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("zslbench"):
            aliases |= {a.asname or a.name for a in node.names if f"{node.module}.{a.name}" in MODULES}
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
            and isinstance(node.value, ast.Name)
            and node.value.id in aliases
        ):
            found.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno} reads {node.value.id}.{node.attr}")
    assert found == []


def test_the_checks_see_the_imports():
    """The graph is read right: known imports of the package are in it."""
    assert ("zslbench.store", "store") in {(t, _top(t)) for t, _, _ in GRAPH["zslbench.tracks.base"]}
    assert any(t.startswith("zslbench.tracks") for t, _, _ in GRAPH["zslbench.sweep.plan"])
    assert any(t == "zslbench.report.baselines" for t, _, _ in GRAPH["zslbench.report.paper_tables.build"])
