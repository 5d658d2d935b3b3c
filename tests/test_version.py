from __future__ import annotations

from importlib.metadata import version

import scalinglaw
from scalinglaw import _core


def test_versions_agree():
    assert scalinglaw.__version__ == _core.__version__ == version("scalinglaw")
