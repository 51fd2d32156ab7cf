"""The house's figures (issue 9): import cycles, function-level imports, `type: ignore`s.

    python bench/house.py

Reads `src/siyu` with `ast` only (no Django set-up, no apt packages). A cycle is a strongly
connected set of modules joined by module-level imports (migrations aside); a function-level
import is an `import` inside a function or method body; it is cross-app when the imported module
belongs to another app of `siyu`.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def app_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def resolve(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imported(node: ast.Import | ast.ImportFrom, module: str, is_package: bool, known: set[str]) -> list[str]:
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    target = resolve(node, module, is_package)
    # `from siyu.x import services` imports the module siyu.x.services when it exists
    names = [f"{target}.{a.name}" for a in node.names if f"{target}.{a.name}" in known]
    return names or [target]


@dataclass
class Figures:
    cycles: list[list[str]]
    all_cycles: list[list[str]]
    local: list[tuple[str, str]]
    cross: list[tuple[str, str]]
    ignores: int


def scan() -> Figures:
    files = [p for p in (SRC / "siyu").rglob("*.py") if "migrations" not in p.parts]
    known = {module_name(p) for p in files}
    graph: dict[str, set[str]] = {m: set() for m in known}
    anywhere: dict[str, set[str]] = {m: set() for m in known}  # module-level and function-level
    local_imports: list[tuple[str, str]] = []
    ignores = 0
    for path in files:
        module = module_name(path)
        text = path.read_text(encoding="utf-8")
        ignores += text.count("type: ignore")
        tree = ast.parse(text)
        is_package = path.name == "__init__.py"
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                for inner in ast.walk(node):
                    if isinstance(inner, ast.Import | ast.ImportFrom):
                        for target in imported(inner, module, is_package, known):
                            if target.startswith("siyu"):
                                local_imports.append((module, target))
                                while target and target not in known:
                                    target = target.rpartition(".")[0]
                                if target and target != module:
                                    anywhere[module].add(target)
        for node in tree.body:
            stack: list[ast.stmt] = [node]
            while stack:
                stmt = stack.pop()
                if isinstance(stmt, ast.Import | ast.ImportFrom):
                    for target in imported(stmt, module, is_package, known):
                        while target and target not in known:
                            target = target.rpartition(".")[0]
                        if target and target != module:
                            graph[module].add(target)
                            anywhere[module].add(target)
                elif isinstance(stmt, ast.If | ast.Try):
                    # TYPE_CHECKING blocks are not imports at run time
                    if isinstance(stmt, ast.If) and "TYPE_CHECKING" in ast.unparse(stmt.test):
                        continue
                    stack.extend(stmt.body + getattr(stmt, "orelse", []) + getattr(stmt, "finalbody", []))
                    for handler in getattr(stmt, "handlers", []):
                        stack.extend(handler.body)
    cycles = strongly_connected(graph)
    cross = [(a, b) for a, b in local_imports if app_of(a) != app_of(b)]
    all_cycles = strongly_connected(anywhere)
    return Figures(cycles, all_cycles, local_imports, cross, ignores)


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    sys.setrecursionlimit(10000)

    def visit(v: str) -> None:
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def main() -> None:
    figures = scan()
    print(f"import cycles (module-level, migrations aside): {len(figures.cycles)}")
    for component in figures.cycles:
        print("  ", " ↔ ".join(component))
    print(f"import cycles counting function-level imports: {len(figures.all_cycles)}")
    for component in figures.all_cycles:
        print("  ", " ↔ ".join(component))
    print(f"function-level imports of siyu modules: {len(figures.local)}")
    print(f"  of them across apps: {len(figures.cross)}")
    if "-v" in sys.argv:
        for a, b in figures.cross:
            print(f"     {a} -> {b}")
    print(f"`type: ignore` comments in src/: {figures.ignores}")


if __name__ == "__main__":
    main()
