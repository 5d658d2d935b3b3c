"""The README's Python block runs as written: extracted and run as a script, it exits 0."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def python_block() -> str:
    section = README.read_text(encoding="utf-8").split("\n## Python\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)\n```", section, flags=re.S)
    assert len(blocks) == 1, "the README's Python section should hold one Python block"
    return blocks[0]


def test_the_readme_python_block_runs_as_a_script(tmp_path: Path) -> None:
    script = tmp_path / "readme.py"
    script.write_text(python_block(), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr
    assert "FitResult(E=1.81722" in done.stdout  # the fit it prints is the one the comment shows
    assert (tmp_path / "figure4.png").stat().st_size > 0
