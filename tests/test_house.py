"""The house's size bar (issues 26 and 38): small classes, modules and functions in `comedy/` and
`app.py`, a handful of modules beside the wings, and no test reaching into a private attribute.
Counted from the source with `ast`, so the bar holds as code grows."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "comedy"
MAX_MODULE_LINES = 400
MAX_CLASS_LINES = 250
MAX_CLASS_ATTRIBUTES = 20
MAX_TOP_MODULES = 12  # beside the wings (realtime, sound, money, stage, show, venue, web...)
MAX_FUNCTION_LINES = 60


def _modules() -> list[Path]:
    return [*sorted(PACKAGE.rglob("*.py")), ROOT / "app.py"]


def _attributes(node: ast.ClassDef) -> set[str]:
    """A class's own fields: annotated in its body, or set on `self` in its methods."""
    names = {
        t.target.id for t in node.body if isinstance(t, ast.AnnAssign) and isinstance(t.target, ast.Name)
    }
    for sub in ast.walk(node):
        targets = sub.targets if isinstance(sub, ast.Assign) else [getattr(sub, "target", None)]
        for target in targets:
            for leaf in ast.walk(target) if target is not None else ():
                if (
                    isinstance(leaf, ast.Attribute)
                    and isinstance(leaf.value, ast.Name)
                    and leaf.value.id == "self"
                ):
                    names.add(leaf.attr)
    return names


def _oversized() -> list[str]:
    found = []
    for path in _modules():
        source = path.read_text()
        name = path.relative_to(ROOT)
        if (lines := len(source.splitlines())) > MAX_MODULE_LINES:
            found.append(f"{name}: {lines} lines")
        for node in ast.walk(ast.parse(source)):
            span = (getattr(node, "end_lineno", 0) or 0) - getattr(node, "lineno", 0) + 1
            if isinstance(node, ast.ClassDef):
                if span > MAX_CLASS_LINES:
                    found.append(f"{name}: class {node.name}: {span} lines")
                if len(attrs := _attributes(node)) > MAX_CLASS_ATTRIBUTES:
                    found.append(f"{name}: class {node.name}: {len(attrs)} attributes")
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and span > MAX_FUNCTION_LINES:
                found.append(f"{name}: {node.name}: {span} lines")
    return found


def test_no_module_class_or_function_over_the_bar() -> None:
    assert _oversized() == []


def test_a_handful_of_modules_beside_the_wings() -> None:
    top = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(top) <= MAX_TOP_MODULES, top
    wings = sorted(p.parent.name for p in PACKAGE.glob("*/__init__.py"))
    assert {"realtime", "sound", "money", "stage", "show", "venue", "web"} <= set(wings)


PRIVATE = re.compile(r"\b(?!self\b|cls\b)[a-z_][a-z0-9_]*\.(_[a-z][a-z0-9_]*)\b")


def test_no_test_reads_a_private_attribute() -> None:
    found = []
    for path in sorted((ROOT / "tests").glob("*.py")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            code = line.split("#", 1)[0]
            for match in PRIVATE.finditer(code):
                found.append(f"{path.name}:{number}: {match.group(0)}")
    assert found == []


def test_the_readme_is_short_its_test_command_is_ci_and_its_links_resolve() -> None:
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 200
    commands = re.findall(r"```bash\n(python3 -m venv[^\n]*)\n```", readme)
    assert len(commands) == 2 and "app.py" in commands[0] and "pytest" in commands[1]
    assert commands[1] in (ROOT / ".ci" / "run").read_text().splitlines()
    links = re.findall(r"\]\(((?:docs|comedy)/[^)#]+)\)", readme)
    assert links and all((ROOT / link).exists() for link in links), links


SOCKETS = re.compile(
    r"RehearsalServer|RehearsalThread|harness\.running|websockets|httpx|asyncio\.start_server|chromium"
)


def test_a_unit_test_module_opens_no_socket() -> None:
    from tests.conftest import kind_of

    opened = [
        path.name
        for path in sorted((ROOT / "tests").glob("test_*.py"))
        if kind_of(path.name) == "unit" and path.name != "test_house.py" and SOCKETS.search(path.read_text())
    ]
    assert opened == []


STATUS_WRITERS = {"stage.py", "status.py", "view.py"}  # the record, its doors and its read-only view


def test_only_the_stages_doors_write_the_status_line() -> None:
    """The stage's machines return status notes; none of them holds the status record."""
    holders = []
    for path in sorted((PACKAGE / "stage").glob("*.py")):
        names = {
            alias.name
            for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.ImportFrom)
            for alias in node.names
        }
        if "SetStatus" in names and path.name not in STATUS_WRITERS:
            holders.append(path.name)
    assert holders == []
