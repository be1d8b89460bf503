"""The house's layers (issue 21): ``web`` → apps → ``credit``, imports pointing down only.

- ``credit/`` is the Django-free core: it imports only libraries (never ``django``,
  ``rest_framework``, ``celery``) and no project package but itself;
- the apps (and ``nplsite``, the site's settings and plumbing) never import ``web``;
- ``nplsite`` does not import the apps;
- no ``services`` or ``selectors`` module imports DRF or a page module;
- no import cycles.

Read from the source, every import counted, including those inside functions."""

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Every app of the project (a top-level package with an apps.py; a new one cannot be missed), and the site.
APPS = tuple(sorted(path.parent.name for path in ROOT.glob("*/apps.py") if path.parent.name not in ("nplsite", "web")))
CORE = "credit"
WEB = "web"
PACKAGES = (CORE, "nplsite", *APPS, WEB)
FRAMEWORKS = ("django", "rest_framework", "celery", "knox", "drf_spectacular", "axes")


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


def imported_names(path: Path) -> set[str]:
    """Every module name ``path`` imports (libraries too), absolute imports only."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            names.add(node.module)
    return names


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
    assert "credit.encoder" in graph["credit.model_search"]
    assert any(target.startswith("web.pages.") for target in graph["web.urls"])


def test_no_import_cycles_among_the_project_modules():
    try:
        TopologicalSorter(import_graph()).prepare()
    except CycleError as error:
        raise AssertionError(f"import cycle: {' -> '.join(error.args[1])}") from None


def _upward(source_ok, target_bad) -> list[tuple[str, str]]:
    return sorted(
        (source, target)
        for source, targets in import_graph().items()
        for target in targets
        if source_ok(source) and target_bad(target)
    )


def _package(module: str) -> str:
    return module.split(".")[0]


def test_the_credit_core_imports_no_framework():
    framework_imports = sorted(
        (str(path.relative_to(ROOT)), name)
        for path in (ROOT / CORE).rglob("*.py")
        for name in imported_names(path)
        if name.split(".")[0] in FRAMEWORKS
    )
    assert framework_imports == []


def test_the_credit_core_imports_only_itself():
    assert _upward(lambda s: _package(s) == CORE, lambda t: _package(t) != CORE) == []


def test_no_app_imports_the_web_layer():
    assert _upward(lambda s: _package(s) != WEB, lambda t: _package(t) == WEB) == []


def test_the_site_package_does_not_import_the_apps():
    assert _upward(lambda s: _package(s) == "nplsite", lambda t: _package(t) in APPS) == []


def test_services_and_selectors_import_no_api_or_page_module():
    offending = sorted(
        (str(path.relative_to(ROOT)), name)
        for app in APPS
        for path in (ROOT / app).glob("*.py")
        if path.stem in ("services", "selectors") or path.stem.endswith(("_services", "_selectors"))
        for name in imported_names(path)
        if name.split(".")[0] in ("rest_framework", WEB) or name.endswith(("page_selectors", "serializers", "views"))
    )
    assert offending == []


def test_the_layer_checks_see_an_upward_import(tmp_path):
    """The checks above would fail on an upward import: a scoring module importing the web layer."""
    graph = {"scoring.example": {"web.pages.scoring", "credit.encoder"}, "web.pages.example": {"scoring.models"}}
    upward = [(s, t) for s, targets in graph.items() for t in targets if _package(s) != WEB and _package(t) == WEB]
    assert upward == [("scoring.example", "web.pages.scoring")]
