"""The hand-written stub names exactly what the compiled module exports."""

from __future__ import annotations

import ast
from pathlib import Path

import scalinglaw
from scalinglaw import _core


def test_stub_matches_module():
    stub = Path(scalinglaw.__file__).with_name("_core.pyi")
    tree = ast.parse(stub.read_text())
    stubbed = {node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef))}
    stubbed |= {node.target.id for node in tree.body if isinstance(node, ast.AnnAssign)}
    exported = {name for name in dir(_core) if not name.startswith("__") or name == "__version__"}
    assert stubbed == exported


def test_package_is_typed():
    assert Path(scalinglaw.__file__).with_name("py.typed").exists()
