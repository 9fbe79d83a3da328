"""The rules of kb's layout, read from the source with ast: a change that breaks one fails here.

An import counts wherever it stands (a function-level import runs when the function does), except
under `if TYPE_CHECKING:`, which never runs.
"""

import ast
from functools import cache
from importlib.util import resolve_name
from pathlib import Path

import pytest

KB = Path(__file__).resolve().parents[1] / "kb"
HEAVY = {"torch", "onnxruntime", "faiss", "sentence_transformers", "transformers"}


def module_name(path: Path) -> str:
    parts = path.relative_to(KB.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(KB.rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


@cache
def imports(module: str) -> tuple[tuple[str, bool], ...]:
    """(imported module, at module level) for every import of `module` that can run."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[tuple[str, bool]] = []

    def visit(node: ast.AST, top: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for other in child.orelse:
                    visit(other, top)
                continue
            if isinstance(child, ast.Import):
                found.extend((alias.name, top) for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = resolve_name("." * child.level + (child.module or ""), package) if child.level else child.module
                submodules = [f"{base}.{alias.name}" for alias in child.names if f"{base}.{alias.name}" in MODULES]
                if len(submodules) < len(child.names):
                    found.append((base, top))
                found.extend((submodule, top) for submodule in submodules)  # "from kb.cli import ask"
            inner = top and not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            visit(child, inner)

    visit(ast.parse(path.read_text(encoding="utf-8")), True)
    return tuple(found)


def kb_imports(module: str, *, top_only: bool = False) -> set[str]:
    return {name for name, top in imports(module) if name in MODULES and (top or not top_only)}


def loaded_by(module: str) -> set[str]:
    """The kb modules that importing `module` loads: module-level imports, followed transitively."""
    seen, todo = set(), [module]
    while todo:
        current = todo.pop()
        if current not in seen:
            seen.add(current)
            todo.extend(kb_imports(current, top_only=True))
            parent = current.rpartition(".")[0]
            if parent:
                todo.append(parent)  # importing a submodule runs its package's __init__ first
    return seen


def test_the_import_reader_sees_every_module():
    assert {"kb", "kb.cli", "kb.cli.render", "kb.index", "kb.index.layout", "kb.errors", "kb.chunk"} <= set(MODULES)
    assert "kb.cli.ask" in kb_imports("kb.cli") and "kb.index.reader" in kb_imports("kb.index", top_only=True)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_only_the_cli_folder_uses_rich_and_typer(module):
    if module == "kb.cli" or module.startswith("kb.cli."):
        return
    used = {name.split(".")[0] for name, _ in imports(module)} & {"rich", "typer", "click"}
    assert not used, f"{module} imports {used}: terminal output belongs in kb/cli/"


@pytest.mark.parametrize("module", ["kb.ingest", "kb.formats", "kb.metadata", "kb.chunk"])
def test_ingest_and_chunking_load_no_model_or_vector_library(module):
    for loaded in sorted(loaded_by(module)):
        heavy = {name.split(".")[0] for name, _ in imports(loaded)} & HEAVY
        assert not heavy, f"{module} loads {loaded}, which imports {heavy}"


def test_the_errors_module_imports_nothing_of_kb():
    assert not {name for name, _ in imports("kb.errors") if name == "kb" or name.startswith("kb.")}


def test_no_import_cycles():
    graph = {module: kb_imports(module) for module in MODULES}
    state: dict[str, str] = {}  # "open" while on the path being followed, then "done"

    def follow(module: str, path: list[str]) -> None:
        state[module] = "open"
        for target in sorted(graph[module]):
            if state.get(target) == "open":
                cycle = path[path.index(target):] + [target] if target in path else [module, target]
                pytest.fail("import cycle: " + " → ".join(cycle))
            if target not in state:
                follow(target, path + [target])
        state[module] = "done"

    for module in MODULES:
        if module not in state:
            follow(module, [module])


@pytest.mark.parametrize("module", sorted(MODULES))
def test_the_library_never_prints_or_exits(module):
    if module == "kb.cli" or module.startswith("kb.cli.") or module == "kb.__main__":
        return
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            function = node.func
            name = function.id if isinstance(function, ast.Name) else (
                f"{function.value.id}.{function.attr}" if isinstance(function, ast.Attribute)
                and isinstance(function.value, ast.Name) else "")
            assert name not in {"print", "exit", "quit", "sys.exit", "os._exit"}, f"{module}:{node.lineno} calls {name}"
