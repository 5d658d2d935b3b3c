"""The package's modules import each other without a cycle, and the lower layers stay below."""

from __future__ import annotations

import ast
from pathlib import Path

import scalinglaw

PACKAGE = Path(scalinglaw.__file__).parent


def _module_name(path: Path) -> str:
    return "scalinglaw" if path.stem == "__init__" else f"scalinglaw.{path.stem}"


def import_graph() -> dict[str, set[str]]:
    """Module -> the package's modules it imports anywhere in its text (top level, inside functions,
    under TYPE_CHECKING alike): `from . import x` counts as importing scalinglaw.x if that is a module,
    else the package itself."""
    modules = {_module_name(p) for p in PACKAGE.glob("*.py")}
    graph: dict[str, set[str]] = {}
    for path in PACKAGE.glob("*.py"):
        here = _module_name(path)
        edges: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                if node.module:
                    targets = [f"scalinglaw.{node.module.split('.')[0]}"]
                else:
                    targets = [f"scalinglaw.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("scalinglaw"):
                targets = [".".join(node.module.split(".")[:2])]  # type: ignore[union-attr]
            elif isinstance(node, ast.Import):
                targets = [
                    ".".join(a.name.split(".")[:2]) for a in node.names if a.name.startswith("scalinglaw")
                ]
            edges |= {t if t in modules else "scalinglaw" for t in targets if t != "scalinglaw._core"}
        graph[here] = edges - {here}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle of the graph as a list of nodes (first == last), or None: depth-first search."""
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start)):
            return found
    return None


def test_the_cycle_finder_finds_cycles():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_no_import_cycle_among_the_modules():
    graph = import_graph()
    assert {"scalinglaw.fit", "scalinglaw.law", "scalinglaw.warnings"} <= set(graph)
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph) or [])


#: The layers README.md's "Developing" section names, lowest first; a module imports only from below.
LAYERS = [
    {"warnings", "_checks", "_tables", "_outputs", "progress"},
    {"frontier", "grid", "goodness", "trust"},
    {"inference"},
    {"law"},
    {"io", "isoflop"},
    {"frames", "summary"},
    {"fit"},
    {"intervals"},
    {"bootstrap", "groups"},
    {"backtest"},
    {"saved"},
    {"answers", "plot_style", "plot_args", "plot_extras"},
    {"plot", "plot_trust"},
    {"plot_groups"},
    {"cli_answers"},
    {"cli"},
    {"__main__"},
]


def test_every_import_goes_down_the_layers():
    graph = import_graph()
    level = {f"scalinglaw.{name}": k for k, layer in enumerate(LAYERS) for name in layer}
    level["scalinglaw"] = len(LAYERS)  # the front door imports from everything
    assert set(level) == set(graph), "a new module: place it in LAYERS (and in the README)"
    upward = [(a, b) for a, edges in graph.items() for b in edges if not level[b] < level[a]]
    assert upward == []


def test_layers():
    graph = import_graph()
    # The law's methods use frontier and grid; those take any object with the parameters.
    assert "scalinglaw.law" not in graph["scalinglaw.frontier"] | graph["scalinglaw.grid"]
    # The warning tree and the checks sit at the bottom: they import nothing of the package.
    assert graph["scalinglaw.warnings"] == set()
    assert graph["scalinglaw._checks"] == set()
    # Nothing inside imports the front door (scalinglaw/__init__.py), which imports everything.
    assert [module for module, edges in graph.items() if "scalinglaw" in edges] == []
    # Reading files needs no fitting code.
    assert "scalinglaw.fit" not in graph["scalinglaw.io"]
