"""The project's modules import each other without cycles, and the site package does not reach back
into the apps (issue 14): read from the source, every import counted, including those inside functions."""

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Every app of the project (a top-level package with an apps.py; a new one cannot be missed), and the site.
APPS = tuple(sorted(path.parent.name for path in ROOT.glob("*/apps.py") if path.parent.name != "nplsite"))
PACKAGES = ("nplsite", *APPS)
# nplsite's URLconf is where the project's pages are put together: it names the apps' URL modules.
COMPOSITION_ROOT = {"web.urls"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _project_modules() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" not in path.parts:
                modules[_module_name(path)] = path
    return modules


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The project modules ``name`` imports (``from pkg import module`` counts the module itself)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def import_graph() -> dict[str, set[str]]:
    """Each project module and the project modules it imports."""
    modules = _project_modules()
    return {name: _imports(name, path, modules) for name, path in modules.items()}


def test_the_graph_sees_imports_inside_functions_and_relative_ones():
    graph = import_graph()
    assert "scoring.batch_jobs" in graph["scoring.tasks"]  # from .batch_jobs import …
    assert "training.services" in graph["training.tasks"]
    assert "applicants.selectors" in graph["training.services"]  # imported inside a function
    assert len(graph) > 60
    assert {"applicants", "jobs", "monitoring", "scoring", "training"} <= set(APPS)


def test_no_import_cycles_among_the_project_modules():
    try:
        TopologicalSorter(import_graph()).prepare()
    except CycleError as error:
        raise AssertionError(f"import cycle: {' -> '.join(error.args[1])}") from None


def test_the_site_package_does_not_import_the_apps():
    upward = sorted(
        (source, target)
        for source, targets in import_graph().items()
        for target in targets
        if source.startswith("nplsite") and source not in COMPOSITION_ROOT and target.split(".")[0] in APPS
    )
    assert upward == []
