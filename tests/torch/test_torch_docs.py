"""docs/torch.md's examples run as written, in the torch venv (they are tagged ``py``; see the page)."""

from __future__ import annotations

import re
from pathlib import Path

PAGE = Path(__file__).resolve().parents[2] / "docs" / "torch.md"
BLOCKS = re.compile(r"^```py\n(.*?)^```", flags=re.S | re.M)


def test_the_page_has_examples_and_they_run(restore_torch_registry):
    blocks = BLOCKS.findall(PAGE.read_text())
    assert len(blocks) >= 2
    namespace: dict = {"__name__": "docs_torch"}
    for index, block in enumerate(blocks):
        exec(compile(block, f"docs/torch.md[py block {index}]", "exec"), namespace)
