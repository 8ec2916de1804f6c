"""The shape of the package, checked so that it holds.

Read with ``ast``, never imported: no import cycle among the modules of
``syndicate`` (module-level imports; an import inside a function is how a
command keeps its start fast and is allowed to point anywhere), SQL
statements are built only in ``syndicate/store/``, nothing outside
``syndicate/cli/`` imports the CLI, and no two modules share a file name.
"""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "syndicate"

# what builds or runs a statement: the constructors, and the connection's execute
SQL_NAMES = {
    "select",
    "insert",
    "update",
    "delete",
    "text",
    "func",
    "and_",
    "or_",
    "not_",
    "case",
    "exists",
    "union",
    "union_all",
    "literal",
    "literal_column",
    "bindparam",
    "tuple_",
}
SQL_METHODS = {"execute", "exec_driver_sql", "scalars", "scalar", "mappings"}


def modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def _absolute(module: str, path: Path, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    base = package.split(".")
    if node.level > 1:
        base = base[: -(node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def top_level_imports(module: str, path: Path) -> set[str]:
    """What the module imports when it is imported (not inside functions or TYPE_CHECKING)."""
    known = modules()
    found: set[str] = set()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        for sub in ast.walk(node) if not isinstance(node, ast.FunctionDef | ast.ClassDef) else []:
            if isinstance(sub, ast.FunctionDef | ast.AsyncFunctionDef):
                break
            if isinstance(sub, ast.Import):
                found.update(a.name for a in sub.names if a.name.startswith("syndicate"))
            elif isinstance(sub, ast.ImportFrom):
                target = _absolute(module, path, sub)
                if not target.startswith("syndicate"):
                    continue
                for alias in sub.names:
                    child = f"{target}.{alias.name}"
                    found.add(child if child in known else target)
    return {f for f in found if f != module}


def test_no_import_cycle() -> None:
    graph = {m: top_level_imports(m, p) for m, p in modules().items()}
    # a package's __init__ importing its own submodules is how a package is built,
    # and a submodule importing a sibling goes through its package: drop those edges
    for m, deps in graph.items():
        graph[m] = {d for d in deps if not d.startswith(m + ".") and not m.startswith(d + ".")}
    state: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for dep in sorted(graph.get(node, ())):
            if state.get(dep) == 1:
                cycles.append([*stack[stack.index(dep) :], dep])
            elif dep not in state:
                visit(dep)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    assert not cycles, "import cycles:\n" + "\n".join(" → ".join(c) for c in cycles)


def test_sql_is_built_only_in_the_store() -> None:
    offenders = []
    for module, path in modules().items():
        if module == "syndicate.store" or module.startswith("syndicate.store."):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy"):
                names = {a.name for a in node.names} & SQL_NAMES
                if names:
                    offenders.append(f"{path.name}:{node.lineno} imports {sorted(names)}")
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in SQL_METHODS
                and _on_connection(node.func.value)
            ):
                offenders.append(f"{path.name}:{node.lineno} calls .{node.func.attr}()")
    assert not offenders, "SQL outside syndicate/store/:\n" + "\n".join(offenders)


def _on_connection(value: ast.expr) -> bool:
    """``conn.execute(…)``, ``self.conn.execute(…)``: names that hold a connection."""
    text = ast.unparse(value)
    return text.split(".")[-1] in {"conn", "connection", "session", "c", "db"}


def test_only_the_cli_imports_the_cli() -> None:
    offenders = []
    for module, path in modules().items():
        if module == "syndicate.cli" or module.startswith(("syndicate.cli.", "syndicate.__main__")):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                target = _absolute(module, path, node)
                if target == "syndicate.cli" or target.startswith("syndicate.cli."):
                    offenders.append(f"{module}:{node.lineno}")
    assert not offenders, offenders


def test_no_two_modules_share_a_file_name() -> None:
    names = Counter(p.name for p in PACKAGE.rglob("*.py") if p.name != "__init__.py")
    assert [n for n, k in names.items() if k > 1] == []
