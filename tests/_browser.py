"""Headless Chromium for tests that render HTML: find it (or install Debian's package) and screenshot."""

from __future__ import annotations

import fcntl
import io
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from _require import skip_or_fail

__all__ = ["screenshot"]


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return None
    # One installer at a time: pytest-xdist workers may get here together.
    with open(Path(tempfile.gettempdir()) / "mlops-chromium-install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if shutil.which("chromium"):
            return shutil.which("chromium")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True, timeout=300, check=False)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "chromium"],
            env=env,
            capture_output=True,
            timeout=600,
            check=False,
        )
        return shutil.which("chromium")


def screenshot(page: Path, out: Path, *, width: int = 1280, height: int = 1600) -> bytes:
    """Render a local HTML file in headless Chromium (no network) and return the PNG bytes.

    Skips (or fails, when CI requires every backend) if Chromium is missing and cannot be installed.
    """
    browser = _chromium()
    if browser is None:
        skip_or_fail(
            "headless Chromium is not installed and could not be installed (apt-get install chromium)"
        )
    subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={out.parent / 'chromium-profile'}",
            f"--screenshot={out}",
            f"--window-size={width},{height}",
            page.resolve().as_uri(),
        ],
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert out.exists(), "Chromium wrote no screenshot"
    return out.read_bytes()


def assert_not_blank(png: bytes, *, min_colors: int = 200) -> None:
    """The screenshot has content: contrast and many colours (charts, badges), not a blank page."""
    from PIL import Image, ImageStat

    with Image.open(io.BytesIO(png)) as img:
        assert ImageStat.Stat(img.convert("L")).stddev[0] > 20, "the screenshot is blank"
        colors = img.convert("RGB").getcolors(maxcolors=1 << 20) or []
        assert len(colors) > min_colors, f"only {len(colors)} colours: the page is not rendered"
