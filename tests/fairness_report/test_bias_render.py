"""Rendering: self-contained HTML that opens in headless Chromium, Markdown, JSON matching its schema."""

from __future__ import annotations

import base64
import importlib.util
import io
import json
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from _browser import assert_not_blank, screenshot
from _require import skip_or_fail

import mlops.fairness as mf
from mlops.errors import InvalidInputError
from mlops.fairness.report import BiasReport
from mlops.fairness.schema import load_schema, validate

PRIVILEGED = {"sex": "male", "marriage": "married", "age_band": "26-35"}
Data = tuple[pd.DataFrame, pd.Series, pd.DataFrame]


@pytest.fixture(scope="module")
def report(hgb: Any, credit_xy: Data) -> BiasReport:
    if importlib.util.find_spec("shap") is None:
        skip_or_fail("shap is not installed: install the explain extra (pip install -e '.[explain]')")
    X, y, sens = credit_xy
    return mf.bias_report(
        hgb, X, y, sensitive_features=sens, privileged=PRIVILEGED, n_boot=100, max_explain_rows=400
    )


def test_html_is_self_contained(report: BiasReport, tmp_path: Path) -> None:
    path = tmp_path / "bias.html"
    text = report.to_html(path)
    assert path.read_text(encoding="utf-8") == text
    assert text.startswith("<!DOCTYPE html>")
    lowered = text.lower()
    for forbidden in ("<script", "<link", "@import", "url(", "<iframe"):
        assert forbidden not in lowered
    assert not re.search(r"(src|href)\s*=\s*['\"](?!data:)", text), "every image must be embedded"
    assert "http" not in re.sub(r"data:image/svg\+xml;base64,[A-Za-z0-9+/=]+", "", text).replace(
        "http-equiv", ""
    )
    images = re.findall(r"data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)", text)
    assert len(images) >= 3 * 3 + 3 + 1  # rate charts per attribute, gap charts, global SHAP
    for data in images:
        svg = base64.b64decode(data).decode("utf-8")
        assert svg.startswith("<svg") and svg.endswith("</svg>")
    for word in ("FAIL", "PASS", "Mitigation", "Explanations (SHAP)", "stratified sample of 400"):
        assert word in text
    frag = report._repr_html_()
    assert frag.startswith("<div class='mlops-bias'>") and "<html" not in frag


def test_json_matches_schema_and_round_trips(report: BiasReport, tmp_path: Path) -> None:
    d = report.to_dict()
    validate(d)
    validate(d, use_jsonschema=False)
    text = report.to_json(tmp_path / "r.json")
    back = json.loads((tmp_path / "r.json").read_text())
    assert back == json.loads(text) == d
    validate(back, use_jsonschema=False)
    again = BiasReport.from_dict(back)
    assert again.to_html() == report.to_html() and again.passed == report.passed
    assert again.to_markdown() == report.to_markdown()
    with pytest.raises(InvalidInputError, match="no model"):
        again.explain_prediction(None)
    schema = load_schema()
    assert schema["$id"] == d["schema"]
    # the schema file ships inside the package
    assert (Path(mf.__file__).parent / "bias_report.schema.json").exists()


@pytest.mark.parametrize("use_jsonschema", [False, None])
def test_schema_rejects_bad_reports(report: BiasReport, use_jsonschema: bool | None) -> None:
    if use_jsonschema is None:
        pytest.importorskip("jsonschema")
    good = report.to_dict()
    bad = [
        ("passed", "yes", "passed"),
        ("attributes", [{"name": "sex"}], "attributes"),
        ("schema", "mlops.bias_report/0", "schema"),
    ]
    for key, value, where in bad:
        d = json.loads(json.dumps(good))
        d[key] = value
        with pytest.raises(InvalidInputError, match=where):
            validate(d, use_jsonschema=use_jsonschema)
    d = json.loads(json.dumps(good))
    d["attributes"][0]["fairness"][0]["status"] = "great"
    with pytest.raises(InvalidInputError, match="fairness"):
        validate(d, use_jsonschema=use_jsonschema)
    d = json.loads(json.dumps(good))
    d["surprise"] = 1
    with pytest.raises(InvalidInputError):
        validate(d, use_jsonschema=use_jsonschema)


def test_markdown(report: BiasReport) -> None:
    md = report.to_markdown()
    assert md.splitlines()[0] == f"# Bias report: {'PASS' if report.passed else 'FAIL'}"
    for name in report.attributes:
        assert f"## {name}:" in md
    assert "| equalized_odds_difference |" in md and "## Explanations" in md


def test_html_renders_in_headless_chromium(report: BiasReport, tmp_path: Path) -> None:
    page = tmp_path / "bias.html"
    report.to_html(page)
    png = screenshot(page, tmp_path / "shot.png", width=1280, height=1600)
    from PIL import Image

    with Image.open(io.BytesIO(png)) as img:
        assert img.size == (1280, 1600)
    # the red FAIL/green PASS badges and the blue bars are there: the page is not just text
    assert_not_blank(png, min_colors=200)
