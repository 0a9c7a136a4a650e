"""Other libraries' private names are read only in ``berrys_monitoring/_compat/``.

Every module of the package is parsed; a module outside ``_compat`` fails this test when
it imports a private module or name of another distribution (``from x._y import z``,
``from x import _y``) or reads an attribute that starts with ``_`` and that this package
defines nowhere itself (``provider._span_limits``, ``getattr(obj, "_queue")``), or
takes another library's code apart (``__closure__``, ``co_consts``). Names
the package defines itself, dunders, and the stdlib's documented underscore names
(``sys._getframe``, ``namedtuple._replace``) are allowed.
"""

from __future__ import annotations

import ast
from pathlib import Path

import berrys_monitoring

PACKAGE = Path(berrys_monitoring.__file__).parent

# Documented names that merely start with an underscore.
DOCUMENTED = {"_getframe", "_replace", "_asdict", "_fields", "_get_current_object"}

# Taking another library's functions apart is refused too.
CODE_INTROSPECTION = {"co_consts", "co_freevars", "co_code", "__closure__", "cell_contents"}

# Modules allowed to wait for their move onto public seams. Empty since the span pipeline
# runs on the public SpanProcessor/SpanExporter interfaces (issue 14); it only shrinks.
NOT_YET_MOVED: set[str] = set()


def _modules() -> dict[str, ast.Module]:
    return {
        p.relative_to(PACKAGE).as_posix(): ast.parse(p.read_text(), str(p))
        for p in sorted(PACKAGE.rglob("*.py"))
    }


def _own_names(trees: dict[str, ast.Module]) -> set[str]:
    """Every name this package defines: functions, classes, attributes it assigns,
    arguments, slots, imports under another name."""
    own: set[str] = set()
    for tree in trees.values():
        for n in ast.walk(tree):
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                own.add(n.name)
            elif isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
                own.add(n.id)
            elif (
                isinstance(n, ast.Attribute)
                and isinstance(n.ctx, ast.Store)
                and isinstance(n.value, ast.Name)
                and n.value.id in ("self", "cls")
            ):
                own.add(n.attr)
            elif isinstance(n, ast.arg):
                own.add(n.arg)
            elif isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name):
                own.add(n.target.id)
            elif (
                isinstance(n, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id == "__slots__" for t in n.targets)
                and isinstance(n.value, (ast.Tuple, ast.List))
            ):
                own.update(e.value for e in n.value.elts if isinstance(e, ast.Constant))
    return own


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _violations(path: str, tree: ast.Module, own: set[str]) -> list[str]:
    found = []
    for n in ast.walk(tree):
        where = f"{path}:{getattr(n, 'lineno', 0)}"
        if isinstance(n, ast.ImportFrom) and n.level == 0 and n.module:
            if n.module.split(".")[0] in ("berrys_monitoring", "__future__"):
                continue
            names = [a.name for a in n.names]
            if any(_private(part) for part in n.module.split(".")) or any(map(_private, names)):
                found.append(f"{where}: from {n.module} import {', '.join(names)}")
        elif isinstance(n, ast.Import):
            for alias in n.names:
                if any(_private(part) for part in alias.name.split(".")):
                    found.append(f"{where}: import {alias.name}")
        elif isinstance(n, ast.Attribute) and n.attr in CODE_INTROSPECTION:
            found.append(f"{where}: .{n.attr} (reading another library's code)")
        elif isinstance(n, ast.Attribute) and _private(n.attr):
            if n.attr not in own and n.attr not in DOCUMENTED:
                found.append(f"{where}: .{n.attr}")
        elif (
            isinstance(n, ast.Call)
            and isinstance(n.func, ast.Name)
            and n.func.id in ("getattr", "hasattr", "setattr")
            and len(n.args) > 1
            and isinstance(n.args[1], ast.Constant)
            and isinstance(n.args[1].value, str)
            and _private(n.args[1].value)
            and n.args[1].value not in own
        ):
            found.append(f"{where}: {n.func.id}(..., {n.args[1].value!r})")
        elif (
            isinstance(n, ast.Call)
            and getattr(n.func, "id", None) == "vars"
            and len(n.args) == 1
            and isinstance(n.args[0], (ast.Name, ast.Attribute))
            and _imported_module(tree, n.args[0])
        ):
            found.append(f"{where}: vars() of another library's module")
    return found


def _imported_module(tree: ast.Module, node: ast.expr) -> bool:
    """Whether ``node`` names a module imported with ``import x`` (not a local object)."""
    name = node.id if isinstance(node, ast.Name) else None
    if name is None:
        return False
    return any(
        isinstance(n, ast.Import)
        and any((a.asname or a.name) == name and not a.name.startswith("berrys") for a in n.names)
        for n in ast.walk(tree)
    )


def test_no_module_outside_compat_reads_another_library_s_private_names() -> None:
    trees = _modules()
    own = _own_names(trees)
    found = [
        v
        for path, tree in trees.items()
        if not path.startswith("_compat/") and path not in NOT_YET_MOVED
        for v in _violations(path, tree, own)
    ]
    assert found == [], "private names of other libraries outside _compat/:\n" + "\n".join(found)


def test_the_check_sees_what_it_must_refuse() -> None:
    source = (
        "from opentelemetry.trace.propagation import _SPAN_KEY\n"
        "from opentelemetry.sdk._logs import LoggerProvider\n"
        "import logging\n"
        "x = provider._active_span_processor\n"
        "q = getattr(processor, '_queue', None)\n"
        "f = vars(logging)['_logRecordFactory']\n"
        "import sys\n"
        "frame = sys._getframe(1)\n"
    )
    found = _violations("probe.py", ast.parse(source), own=set())
    assert [v.split(": ", 1)[1] for v in found] == [
        "from opentelemetry.trace.propagation import _SPAN_KEY",
        "from opentelemetry.sdk._logs import LoggerProvider",
        "._active_span_processor",
        "getattr(..., '_queue')",
        "vars() of another library's module",
    ]


def test_every_module_still_waiting_exists() -> None:
    """An entry of NOT_YET_MOVED that is gone or clean must leave the list."""
    trees = _modules()
    own = _own_names(trees)
    for path in NOT_YET_MOVED:
        assert path in trees, f"{path} no longer exists: remove it from NOT_YET_MOVED"
        assert _violations(path, trees[path], own), f"{path} is clean: remove it from the list"
