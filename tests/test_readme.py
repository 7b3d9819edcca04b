"""The README's tour and the quickstart page run as written (in a fresh process and an empty folder)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_tour_runs(tmp_path: Path) -> None:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks, "the README has no python example"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLOPS_")}
    done = subprocess.run(
        [sys.executable, "-c", blocks[0]], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "metrics.training_roc_auc" in done.stdout
    assert (tmp_path / "mlops-data" / "mlops.db").exists()


def test_quickstart_page_runs(tmp_path: Path) -> None:
    page = README.parent / "docs" / "quickstart.md"
    blocks = re.findall(r"```python\n(.*?)```", page.read_text(), flags=re.S)
    assert len(blocks) >= 5
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLOPS_")}
    script = (
        "\n".join(blocks) + "\nprint('quickstart ok', predictor.predict(X.iloc[0].to_dict()).model_version)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "quickstart ok 1" in done.stdout
    assert (tmp_path / "bias.html").read_text().startswith("<!DOCTYPE html>")
