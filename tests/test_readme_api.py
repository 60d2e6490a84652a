"""The README's Python API example runs as written, on the shipped quickstart results."""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib.pyplot as plt

ROOT = Path(__file__).resolve().parent.parent


def test_readme_python_example_runs(tmp_path, monkeypatch, capsys):
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"<!-- api-example -->\s*```python\n(.*?)```\s*<!-- /api-example -->", readme, re.S)
    assert block, "the README lost its marked Python example"
    code = block.group(1).replace('"results/quickstart"', repr(str(ROOT / "results" / "quickstart")))
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "README.md", "exec"), {})
    plt.close("all")
    printed = capsys.readouterr().out
    assert "weight_share" not in printed and "factor_vae" in printed  # the table printed, not the index name
    assert re.search(r"spread of the final MIG across starting weights, adaptive / fixed = [\d.]+", printed)
    assert "on MIG" in printed  # a sensitivity verdict
    assert (tmp_path / "mig-by-gamma.png").stat().st_size > 10_000
