"""No import loops among the project's packages, function-local imports included.

The graph has an edge for every first-party import in `streaming/`, `f1_assets/` and `expectations/`:
module level or inside a function (a local import must not hide a loop), only `if TYPE_CHECKING:` blocks
left out (they never run). A loop is a strongly connected component of more than one module.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from streaming.settings import PROJECT_ROOT

PACKAGES = ("streaming", "f1_assets", "expectations")
GENERATED = "generated"  # protoc's output: imports its siblings only


def modules(root: Path = PROJECT_ROOT, packages: tuple[str, ...] = PACKAGES) -> dict[str, Path]:
    """{dotted module name: file} of every first-party module."""
    found = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            if GENERATED in path.parts:
                continue
            parts = path.relative_to(root).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _is_type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    for node in ast.iter_child_nodes(tree):
        if _is_type_checking(node):
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        yield from _imports(node)


def imported_names(module: str, is_package: bool, node: ast.Import | ast.ImportFrom) -> list[str]:
    """Every dotted name an import statement may refer to (a module, or a name in one)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        package = module if is_package else module.rpartition(".")[0]
        for _ in range(node.level - 1):
            package = package.rpartition(".")[0]
        base = f"{package}.{base}" if base else package
    return [base, *(f"{base}.{alias.name}" for alias in node.names)]


def import_graph(found: dict[str, Path], packages: tuple[str, ...] = PACKAGES) -> dict[str, set[str]]:
    """{module: the first-party modules it imports}."""

    def owner(name: str) -> str | None:  # the longest first-party module that `name` lies in
        while name and name not in found:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {}
    for module, path in found.items():
        edges = graph.setdefault(module, set())
        for node in _imports(ast.parse(path.read_text(), str(path))):
            for name in imported_names(module, path.name == "__init__.py", node):
                target = owner(name) if name.split(".")[0] in packages else None
                if target and target != module:
                    edges.add(target)
    return graph


def loops(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def describe(graph: dict[str, set[str]], component: list[str]) -> str:
    members = set(component)
    edges = [f"  {m} -> {', '.join(sorted(graph[m] & members))}" for m in component]
    return f"a loop of {len(component)} modules:\n" + "\n".join(edges)


def test_no_import_loops():
    graph = import_graph(modules())
    found = loops(graph)
    assert not found, "import loops (function-local imports included):\n" + "\n".join(
        describe(graph, c) for c in found
    )


@pytest.mark.parametrize(
    ("sources", "expected"),
    [
        # a loop hidden by a function-local import is still a loop
        ({"a/__init__.py": "import b\n", "b/__init__.py": "def f():\n    import a\n"}, [["a", "b"]]),
        # relative imports resolve against the package; `from p import r` names the module p.r
        (
            {
                "p/__init__.py": "from . import q\n",
                "p/q.py": "from p import r\n",
                "p/r.py": "from .q import x\n",
            },
            [["p", "p.q", "p.r"]],
        ),
        # a TYPE_CHECKING import never runs
        (
            {
                "a/__init__.py": "import b\n",
                "b/__init__.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import a\n",
            },
            [],
        ),
    ],
)
def test_the_graph_sees_local_and_relative_imports_and_skips_type_checking(tmp_path, sources, expected):
    for name, text in sources.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    packages = tuple(sorted({name.split("/")[0] for name in sources}))
    assert loops(import_graph(modules(tmp_path, packages), packages)) == expected
