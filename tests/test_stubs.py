"""The hand-written stub names exactly what the compiled module exports: every function with its
parameters, every class with its fields and enum values, and no untyped dict crosses the binding."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import scalinglaw
from scalinglaw import _core

STUB = ast.parse(Path(scalinglaw.__file__).with_name("_core.pyi").read_text())
CLASSES = {node.name: node for node in STUB.body if isinstance(node, ast.ClassDef)}
FUNCTIONS = {node.name: node for node in STUB.body if isinstance(node, ast.FunctionDef)}


def _bound_parameters(function: object) -> list[str]:
    """Parameter names from pybind11's signature line, e.g. 'f(n: numpy.ndarray[...], *, k: int = 0)'."""
    signature = (getattr(function, "__doc__", None) or "").splitlines()[0]
    inside = signature[signature.index("(") + 1 : signature.rindex(") ->")]
    parameters, depth, current = [], 0, ""
    for char in inside + ",":
        depth += (char in "[(") - (char in "])")
        if char == "," and depth == 0:
            parameters.append(re.split(r"[:=]", current)[0].strip())
            current = ""
        else:
            current += char
    return [p for p in parameters if p]


def _stub_parameters(node: ast.FunctionDef) -> list[str]:
    args = node.args
    names = [a.arg for a in args.args if a.arg != "self"]
    return names + (["*"] if args.kwonlyargs else []) + [a.arg for a in args.kwonlyargs]


def test_stub_matches_module():
    stubbed = {*CLASSES, *FUNCTIONS}
    stubbed |= {node.target.id for node in STUB.body if isinstance(node, ast.AnnAssign)}  # type: ignore[union-attr]
    exported = {name for name in dir(_core) if not name.startswith("__") or name == "__version__"}
    assert stubbed == exported


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_stub_class_has_the_bound_fields(name: str) -> None:
    bound = getattr(_core, name)
    fields = {key for key in vars(bound) if not key.startswith("_")}
    node = CLASSES[name]
    stubbed = {item.name for item in node.body if isinstance(item, ast.FunctionDef)}
    stubbed |= {item.target.id for item in node.body if isinstance(item, ast.AnnAssign)}  # type: ignore[union-attr]
    assert {key for key in stubbed if not key.startswith("_")} == fields
    # Read-only: a result cannot be edited, and an option object is made whole by its constructor.
    for key in fields:
        member = vars(bound)[key]
        if isinstance(member, property):
            assert member.fset is None, f"{name}.{key} is writeable"
            stub_member = next(i for i in node.body if isinstance(i, ast.FunctionDef) and i.name == key)
            assert any(isinstance(d, ast.Name) and d.id == "property" for d in stub_member.decorator_list)


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_stub_function_has_the_bound_parameters(name: str) -> None:
    assert _stub_parameters(FUNCTIONS[name]) == _bound_parameters(getattr(_core, name))


@pytest.mark.parametrize("name", ["Params", "LogParams", "FitOptions"])
def test_stub_constructor_has_the_bound_parameters(name: str) -> None:
    init = next(i for i in CLASSES[name].body if isinstance(i, ast.FunctionDef) and i.name == "__init__")
    assert _stub_parameters(init) == _bound_parameters(getattr(_core, name).__init__)[1:]  # minus self


def test_enum_values_match():
    for name in ("FitStatus", "ParabolaStatus"):
        stubbed = [
            item.target.id  # type: ignore[union-attr]
            for item in CLASSES[name].body
            if isinstance(item, ast.AnnAssign) and not item.target.id.startswith("_")  # type: ignore[union-attr]
        ]
        assert stubbed == list(getattr(_core, name).__members__)


def test_no_dict_or_any_result():
    for node in [*FUNCTIONS.values(), *(i for c in CLASSES.values() for i in c.body)]:
        if isinstance(node, ast.FunctionDef) and node.returns is not None:
            returned = ast.unparse(node.returns)
            assert "dict" not in returned and returned != "Any", f"{node.name} returns {returned}"


def test_package_is_typed():
    assert Path(scalinglaw.__file__).with_name("py.typed").exists()
