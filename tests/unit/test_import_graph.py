"""The shape of webapp/, read from its source with `ast`: no import cycles between its modules, and the
lower layers (services, models, telephony) never import the upper ones (api, dashboard, sockets).

Every import counts, wherever it is written: at module level, inside a function, or under
`if TYPE_CHECKING:`; an import moved into a function still runs, and the cycle is still there.
An edge is an explicit import of one webapp module by another (`from webapp.services import engine`
imports webapp.services.engine; `from webapp.models import Call` imports webapp.models)."""

import ast
from pathlib import Path

from tests.support import ROOT

PACKAGE = "webapp"
LOWER_LAYERS = ("webapp.services", "webapp.models", "webapp.telephony")
UPPER_LAYERS = ("webapp.api", "webapp.dashboard", "webapp.sockets")


def _modules() -> dict[str, Path]:
    """Every module of the package by dotted name (a package by its own name, for its __init__)."""
    modules = {}
    for path in sorted((ROOT / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _imports(module: str, path: Path, modules: dict) -> set[str]:
    """The webapp modules one module imports, relative imports resolved."""
    is_package = path.name == "__init__.py"
    targets = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                while parts and ".".join(parts) not in modules:
                    parts.pop()
                if parts:
                    targets.add(".".join(parts))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = module.split(".") if is_package else module.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            for alias in node.names:
                if f"{base}.{alias.name}" in modules:  # a submodule: `from webapp.services import engine`
                    targets.add(f"{base}.{alias.name}")
                elif base in modules:  # a name the module defines: `from webapp.models import Call`
                    targets.add(base)
    targets.discard(module)
    return targets


def import_graph() -> dict[str, set[str]]:
    """module → the webapp modules it imports."""
    modules = _modules()
    return {module: _imports(module, path, modules) for module, path in modules.items()}


def _strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's algorithm (iterative): the components with more than one module are the cycles."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(component)
    return components


def cycle_edges(graph: dict[str, set[str]]) -> list[str]:
    """The imports that hold cycles together: every edge inside a strongly connected component."""
    edges = []
    for component in _strongly_connected(graph):
        edges.extend(f"{a} -> {b}" for a in sorted(component) for b in sorted(graph[a] & component))
    return edges


def upward_edges(graph: dict[str, set[str]]) -> list[str]:
    def within(module: str, layers: tuple[str, ...]) -> bool:
        return any(module == layer or module.startswith(f"{layer}.") for layer in layers)

    return [
        f"{a} -> {b}"
        for a in sorted(graph)
        if within(a, LOWER_LAYERS)
        for b in sorted(graph[a])
        if within(b, UPPER_LAYERS)
    ]


def test_the_reader_sees_function_level_relative_and_type_checking_imports(tmp_path):
    source = tmp_path / "engine.py"
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "from .. import events\n"
        "from webapp.models import Call\n"
        "if TYPE_CHECKING:\n    import webapp.sockets.live\n"
        "def later():\n    from . import recordings\n"
    )
    modules = {"webapp.events", "webapp.models", "webapp.sockets", "webapp.services.recordings"}
    assert _imports("webapp.services.engine", source, modules) == modules
    assert cycle_edges({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a -> b", "b -> c", "c -> a"]
    assert cycle_edges({"a": {"b"}, "b": set(), "c": {"c"}}) == []
    assert "webapp.models.call" in import_graph()["webapp.models"]  # `from .call import ...` in an __init__


def test_webapp_has_no_import_cycles():
    edges = cycle_edges(import_graph())
    assert not edges, "import cycles in webapp/ (each edge lies on a cycle):\n" + "\n".join(edges)


def test_services_models_and_telephony_never_import_api_dashboard_or_sockets():
    edges = upward_edges(import_graph())
    assert not edges, "lower layers importing upper ones:\n" + "\n".join(edges)
