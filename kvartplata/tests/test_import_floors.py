"""The project's floors: every module imports only from its own app or from the floors below.

The floors, from the ground up (the README's «Where things are» lists the same):

    lib < registry < users < meters < billing < payments, receipts < statements < cabinet,
    backoffice < demo

Apps on the same floor do not import each other either. The project's own top modules
(settings, urls, wsgi) stand above every floor. Imports inside functions count too. Tests
(`tests/` folders) may use anything: they are not part of the house, they inspect it.

What still runs up is listed in ALLOWED_UPWARD with the reason; the list can only shrink: the
test fails when a listed import no longer exists, so the list stays true.
"""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent  # kvartplata/

FLOORS = {
    "lib": 0,
    "registry": 1,
    "users": 2,
    "meters": 3,
    "billing": 4,
    "payments": 5,
    "receipts": 5,
    # The account statement (a read model of billing and payments) shared by both faces.
    "statements": 6,
    "cabinet": 7,
    "backoffice": 7,
    "demo": 8,
}

# (importing module, imported module) pairs that still run up the floors. Remove a line when
# its import is gone; never add one without a reason next to it.
ALLOWED_UPWARD: set[tuple[str, str]] = set()

# Services, and modules that a tasks.py imports, that import a tasks module (a circle). Tasks import
# services, never the reverse; callers queue with kvartplata.lib.queue. Same rule: shrink only.
ALLOWED_SERVICES_TO_TASKS: set[tuple[str, str]] = set()


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        if "tests" in parts or "migrations" in parts:
            continue
        if parts[-1] == "__init__":
            parts = parts[:-1]
        yield "kvartplata." + ".".join(parts), path


def _imports(name: str, path: Path):
    """Every kvartplata module imported anywhere in the file (functions included)."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            targets = [module]
        else:
            continue
        for target in targets:
            if target.startswith("kvartplata."):
                yield target


def _app(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in FLOORS else None


def _upward():
    found = set()
    for name, path in _modules():
        app = _app(name)
        if app is None:  # settings, urls, wsgi: the top of the house
            continue
        for target in _imports(name, path):
            other = _app(target)
            if other is not None and other != app and FLOORS[other] >= FLOORS[app]:
                found.add((name, target))
    return found


def _services_to_tasks():
    modules = dict(_modules())
    used_by_tasks = {
        target
        for name, path in modules.items()
        if name.endswith(".tasks")
        for target in _imports(name, path)
        if not target.endswith(".tasks")
    }
    found = set()
    services = {name for name in modules if name.endswith(".services")}
    for name in (used_by_tasks | services) & set(modules):
        for target in _imports(name, modules[name]):
            if target.endswith(".tasks"):
                found.add((name, target))
    return found


def test_it_knows_every_app_of_the_project():
    apps = {p.parent.name for p in PACKAGE.glob("*/apps.py")} | {"lib", "statements"}
    assert apps == set(FLOORS)


def test_it_finds_an_upward_import_inside_a_function(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from kvartplata.cabinet.access import x\n", encoding="utf-8")
    assert list(_imports("kvartplata.meters.m", module)) == ["kvartplata.cabinet.access"]


def test_it_resolves_relative_imports(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("from ..billing import models\n", encoding="utf-8")
    assert list(_imports("kvartplata.meters.m", module)) == ["kvartplata.billing"]


def test_it_has_no_import_up_the_floors():
    found = _upward()
    new = sorted(found - ALLOWED_UPWARD)
    gone = sorted(ALLOWED_UPWARD - found)
    assert not new, f"imports up the floors: {new}"
    assert not gone, f"no longer imported, remove from ALLOWED_UPWARD: {gone}"


def test_it_has_no_service_queueing_its_task():
    found = _services_to_tasks()
    new = sorted(found - ALLOWED_SERVICES_TO_TASKS)
    gone = sorted(ALLOWED_SERVICES_TO_TASKS - found)
    assert not new, f"services importing tasks (queue from the caller instead): {new}"
    assert not gone, f"no longer imported, remove from ALLOWED_SERVICES_TO_TASKS: {gone}"
