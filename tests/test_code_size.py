"""The house rule of STYLE.md, held by a test: a module of the app of about 450 lines at
most, a function of about 60. Past that a file or a function holds two ideas; split it
by what it holds rather than raise the limit. Migrations are generated and left out."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APP_PACKAGES = ["accounts", "checklists", "clinic"]
MAX_MODULE_LINES = 450
MAX_FUNCTION_LINES = 60


def app_modules():
    for package in APP_PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


@pytest.mark.parametrize("path", list(app_modules()), ids=lambda p: str(p.relative_to(ROOT)))
def test_module_and_its_functions_are_small(path):
    text = path.read_text(encoding="utf-8")
    assert text.count("\n") <= MAX_MODULE_LINES, "split this module by what it holds"
    long = [
        f"{node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for node in ast.walk(ast.parse(text))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    ]
    assert long == [], "split these functions into named steps"
