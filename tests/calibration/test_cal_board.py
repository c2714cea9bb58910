"""The printable board: exact physical size, legacy layout detection, bad definitions."""

from __future__ import annotations

import re
import zlib
from pathlib import Path

import cv2
import pytest

from calibration.board import BoardSpec, board_image, detect, write_pdf, write_png
from edge_runtime.errors import CalibrationError

PT_PER_MM = 72 / 25.4


def _image_placement_pt(pdf: bytes) -> tuple[float, float]:
    """Width and height (points) of the board image as placed by the PDF content stream."""
    for match in re.finditer(rb"stream\r?\n(.*?)endstream", pdf, re.S):
        try:
            text = zlib.decompress(match.group(1))
        except zlib.error:
            continue
        placed = re.search(rb"cm ([\d.]+) 0 0 -([\d.]+)\s+0 [\d.]+ cm /I\d+ Do", text)
        if placed:
            return float(placed.group(1)), float(placed.group(2))
    raise AssertionError("no image placement found in the PDF")


def test_cal_pdf_is_a4_and_the_board_measures_exactly_its_definition(tmp_path: Path) -> None:
    spec = BoardSpec()  # 7x5 squares of 35 mm
    pdf = write_pdf(spec, tmp_path / "board.pdf", page="a4").read_bytes()
    box = re.search(rb"MediaBox \[ ?0 0 ([\d.]+) ([\d.]+) ?\]", pdf)
    assert box is not None
    assert float(box.group(1)) == pytest.approx(297 * PT_PER_MM, abs=0.01)
    assert float(box.group(2)) == pytest.approx(210 * PT_PER_MM, abs=0.01)
    width_pt, height_pt = _image_placement_pt(pdf)
    # Placed unresampled (interpolation "none"): the PDF scales it to exactly 245 x 175 mm.
    assert width_pt == pytest.approx(245 * PT_PER_MM, abs=0.01)
    assert height_pt == pytest.approx(175 * PT_PER_MM, abs=0.01)


def test_cal_png_has_the_requested_resolution_and_detects_fully(tmp_path: Path) -> None:
    spec = BoardSpec()
    path = write_png(spec, tmp_path / "board.png", dpi=200)
    image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    assert image.shape == (round(0.175 / 0.0254 * 200), round(0.245 / 0.0254 * 200))
    assert detect(image, spec).count == spec.corner_count


def test_cal_legacy_board_seen_with_the_new_definition_says_pass_legacy() -> None:
    legacy = BoardSpec(squares_x=6, squares_y=4, square_m=0.04, marker_m=0.03, legacy=True)
    image = board_image(legacy, 4000)
    assert detect(image, legacy).count == legacy.corner_count
    wrong = BoardSpec(squares_x=6, squares_y=4, square_m=0.04, marker_m=0.03, legacy=False)
    with pytest.raises(CalibrationError, match=r"legacy.*--legacy"):
        detect(image, wrong)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"marker_m": 0.05}, "smaller than the square"),
        ({"squares_x": 2}, "at least 3x3"),
    ],
)
def test_cal_bad_board_definitions_are_refused(kwargs: dict, message: str) -> None:
    with pytest.raises(CalibrationError, match=message):
        BoardSpec(**kwargs)


def test_cal_board_too_big_for_the_page_is_refused_and_nothing_written(tmp_path: Path) -> None:
    spec = BoardSpec(squares_x=9, squares_y=7, square_m=0.04, marker_m=0.03)
    with pytest.raises(CalibrationError, match="does not fit on a4"):
        write_pdf(spec, tmp_path / "board.pdf", page="a4")
    assert list(tmp_path.iterdir()) == []
