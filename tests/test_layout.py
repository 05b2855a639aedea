"""The package's floors, read from its source: who may import whom.

Every import counts, the ones inside functions too (they are how heavy libraries stay
lazy, not a way round the layering).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from rlhf_playground.registry import STAGES

PACKAGE = Path(__file__).resolve().parents[1] / "rlhf_playground"
STAGE_MODULES = {stage.module for stage in STAGES.values()}
MAY_IMPORT_STAGES = ("rlhf_playground.cli", "rlhf_playground.registry", "rlhf_playground.ui")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> set[str]:
    """The rlhf_playground modules ``path`` imports (``from .x import y`` counts ``.x.y`` when that is a module)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return {m for m in found if m in MODULES and m != name}


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py")}
GRAPH = {name: imports(path) for name, path in MODULES.items()}


def test_the_graph_is_read():
    """The reader finds real arrows (else every other test here would pass on nothing)."""
    assert "rlhf_playground.registry" in GRAPH["rlhf_playground.cli"]
    assert "rlhf_playground.stages.common" in GRAPH["rlhf_playground.stages.sft"]
    assert "rlhf_playground.ppo.core" in GRAPH["rlhf_playground.ppo.trainer"]
    assert STAGE_MODULES <= set(MODULES)


def _cycle_from(start: str) -> list[str] | None:
    path, on_path = [], set()

    def visit(node: str) -> list[str] | None:
        path.append(node)
        on_path.add(node)
        for nxt in sorted(GRAPH[node]):
            if nxt == start:
                return [*path, start]
            if nxt not in on_path and nxt > start and (found := visit(nxt)):
                return found
        path.pop()
        on_path.discard(node)
        return None

    return visit(start)


def test_there_is_no_import_circle():
    circles = [c for m in sorted(GRAPH) if (c := _cycle_from(m))]
    assert not circles, "import circles: " + "; ".join(" -> ".join(c) for c in circles)


@pytest.mark.parametrize("name", sorted(MODULES))
def test_only_the_registry_cli_and_ui_import_a_stage(name):
    if name.startswith(MAY_IMPORT_STAGES):
        return
    reached = GRAPH[name] & (STAGE_MODULES - {name})
    assert not reached, f"{name} imports the stage module(s) {sorted(reached)}"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_the_library_never_imports_gradio(name):
    if name.startswith("rlhf_playground.ui"):
        return
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    names = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    names |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    assert not {n for n in names if n.split(".")[0] == "gradio"}
