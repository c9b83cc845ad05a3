"""Everything the application imports is installed by requirements.txt alone. `./run.sh` installs
only that file, while the tests run in the dev environment (which adds requirements-dev.txt), so
a runtime import satisfied by a dev tool's dependency passes every test and breaks a fresh
`./run.sh`. This reads the imports and the installed packages' metadata; nothing is installed."""

import ast
import re
import sys
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
APP_SOURCES = [*sorted((ROOT / "webapp").rglob("*.py")), *sorted(ROOT.glob("*.py"))]
LOCAL = {"webapp", *(path.stem for path in ROOT.glob("*.py"))}


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _imported_top_level_modules() -> set[str]:
    modules = set()
    for path in APP_SOURCES:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                modules.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules.add(node.module.split(".")[0])
    return modules - LOCAL - set(sys.stdlib_module_names)


def _runtime_closure() -> set[str]:
    """requirements.txt's distributions and, recursively, what they require (markers evaluated,
    extras followed where the line asks for them)."""
    wanted = []
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            wanted.append(Requirement(line))
    closure: set[str] = set()
    while wanted:
        requirement = wanted.pop()
        name = _canonical(requirement.name)
        key = (name, frozenset(requirement.extras))
        if key in closure:
            continue
        closure.add(key)
        for text in metadata.requires(requirement.name) or []:
            dependency = Requirement(text)
            if dependency.marker is None or any(
                dependency.marker.evaluate({"extra": extra}) for extra in (requirement.extras or {""})
            ):
                wanted.append(dependency)
    return {name for name, _ in closure}


def test_every_third_party_import_comes_with_requirements_txt():
    installed_by = metadata.packages_distributions()
    closure = _runtime_closure()
    modules = _imported_top_level_modules()
    assert {"flask", "sqlalchemy", "pydantic_settings"} <= modules  # the scan reads real imports
    missing = {
        module: installed_by.get(module, ["(not installed)"])
        for module in modules
        if not any(_canonical(dist) in closure for dist in installed_by.get(module, []))
    }
    assert missing == {}, f"imported by the app but not installed by requirements.txt: {missing}"
