"""The examples a newcomer runs first: the notebook tour, the quickstart script and the demo."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from _browser import assert_not_blank, screenshot
from _require import skip_or_fail

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_quickstart_script(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, str(EXAMPLES / "quickstart.py")],
        cwd=tmp_path,
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
        env=_env(tmp_path),
    )
    assert "run sgd FINISHED" in out.stdout
    assert (tmp_path / "mlops-data" / "mlops.db").exists()


def test_notebook_tour_runs(tmp_path: Path) -> None:
    try:
        import nbformat
        from nbclient import NotebookClient
    except ImportError:
        skip_or_fail("nbclient/nbformat are not installed (pip install 'mlops[test]')")
    notebook = nbformat.read(EXAMPLES / "tour.ipynb", as_version=4)
    client = NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    import os

    previous = {k: os.environ.pop(k, None) for k in ("MLOPS_TRACKING_URI", "MLOPS_ARTIFACT_URI")}
    try:
        client.execute()
    finally:
        os.environ.update({k: v for k, v in previous.items() if v is not None})
    outputs = {
        i: cell.get("outputs", []) for i, cell in enumerate(notebook.cells) if cell.cell_type == "code"
    }
    html = [
        o["data"]["text/html"]
        for cells in outputs.values()
        for o in cells
        if o.get("output_type") == "execute_result" and "text/html" in o.get("data", {})
    ]
    assert any("Run logreg" in h for h in html)  # the Run view
    assert any("Events (" in h for h in html)  # the audit log view
    assert any("<svg" in h or "data:image/svg" in h for h in html)  # the bias report's charts
    assert (tmp_path / "mlops-data" / "mlops.db").exists()


@pytest.mark.slow
def test_demo_end_to_end(tmp_path: Path) -> None:
    from mlops.demo import run_demo

    result = run_demo(tmp_path / "store")
    assert len(result["runs"]) == 3 and result["champion"] == 1 and result["challenger"] == 2
    assert Path(result["report"]).read_text().startswith("<!DOCTYPE html>")
    assert_not_blank(screenshot(Path(result["report"]), tmp_path / "report.png"))
    assert Path(result["scores_file"]).exists()
    again = run_demo(tmp_path / "store")  # re-running adds to the store
    assert again["champion"] == 3


def _env(tmp_path: Path) -> dict[str, str]:
    import os

    env = {k: v for k, v in os.environ.items() if k not in ("MLOPS_TRACKING_URI", "MLOPS_ARTIFACT_URI")}
    return env
