"""One headless chromium for every browser test of the console (starting one costs seconds)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from edge_runtime.cli.main import build_parser

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    webdriver = pytest.importorskip(
        "selenium.webdriver", reason="selenium (the dev extra) is absent"
    )
    if not (CHROMIUM and DRIVER):
        pytest.skip(
            "Debian's chromium and chromium-driver are not installed (tools/setup.sh installs "
            "them when run as root)"
        )
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    build_parser()  # loads the CLI plugins, as `edgerun console` does: calibration adds its pages
    options = Options()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,900"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(DRIVER))
    try:
        yield driver
    finally:
        driver.quit()
