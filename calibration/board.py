"""The ChArUco board: its definition, printable PNG/PDF at exact size, and detection.

The definition (squares, sizes, dictionary, legacy layout) travels with every artifact and is
saved as `board.json` next to the printout, because a board detected with the wrong definition
gives confident, wrong calibrations. OpenCV 4.6 changed the layout of boards with an even
number of rows; boards printed before that (or by calib.io) need `legacy = true`
(`CharucoBoard.setLegacyPattern`). Detection notices that mismatch and says so.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edge_runtime.calibration_artifacts.artifact import write_atomic
from edge_runtime.errors import CalibrationError

PAGES_MM = {"a4": (297.0, 210.0), "letter": (279.4, 215.9), "a3": (420.0, 297.0)}


@dataclass(frozen=True)
class BoardSpec:
    squares_x: int = 7
    squares_y: int = 5
    square_m: float = 0.035
    marker_m: float = 0.026
    dictionary: str = "DICT_5X5_100"
    legacy: bool = False

    def __post_init__(self) -> None:
        if self.squares_x < 3 or self.squares_y < 3:
            raise CalibrationError("a ChArUco board needs at least 3x3 squares")
        if not 0 < self.marker_m < self.square_m:
            raise CalibrationError(
                f"marker size {self.marker_m * 1000:.1f} mm must be smaller than the square size "
                f"{self.square_m * 1000:.1f} mm"
            )

    @property
    def size_m(self) -> tuple[float, float]:
        return self.squares_x * self.square_m, self.squares_y * self.square_m

    @property
    def corner_count(self) -> int:
        return (self.squares_x - 1) * (self.squares_y - 1)

    @property
    def legacy_matters(self) -> bool:
        """Only boards with an even row count differ between the two layouts."""
        return self.squares_y % 2 == 0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any], where: str = "board") -> BoardSpec:
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(data) - known)
        if unknown:
            raise CalibrationError(f"{where}: unknown board key '{unknown[0]}'")
        try:
            return cls(**data)
        except TypeError as exc:
            raise CalibrationError(f"{where}: bad board definition ({exc})") from exc

    @classmethod
    def load(cls, path: Path) -> BoardSpec:
        try:
            return cls.from_json(json.loads(path.read_text()), str(path))
        except (OSError, json.JSONDecodeError) as exc:
            raise CalibrationError(
                f"cannot read board definition {path} ({exc}); pass the board.json written by "
                "`edgerun calibrate board`"
            ) from exc

    def save(self, path: Path) -> None:
        write_atomic(path, (json.dumps(self.to_json(), indent=2) + "\n").encode())

    def describe(self) -> str:
        layout = " legacy layout" if self.legacy else ""
        return (
            f"{self.squares_x}x{self.squares_y} squares of {self.square_m * 1000:g} mm, markers "
            f"{self.marker_m * 1000:g} mm, {self.dictionary}{layout}"
        )


def make_board(spec: BoardSpec) -> Any:
    import cv2

    if not hasattr(cv2.aruco, spec.dictionary):
        raise CalibrationError(f"unknown ArUco dictionary {spec.dictionary}, e.g. DICT_5X5_100")
    dictionary = cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, spec.dictionary))
    needed = spec.squares_x * spec.squares_y // 2
    if needed > dictionary.bytesList.shape[0]:
        raise CalibrationError(
            f"{spec.dictionary} has {dictionary.bytesList.shape[0]} markers but the board needs "
            f"{needed}; choose a larger dictionary, e.g. DICT_5X5_250"
        )
    board = cv2.aruco.CharucoBoard(
        (spec.squares_x, spec.squares_y), spec.square_m, spec.marker_m, dictionary
    )
    board.setLegacyPattern(spec.legacy)
    return board


def board_image(spec: BoardSpec, px_per_m: float) -> np.ndarray:
    """The board, no margin, `px_per_m` pixels per metre (grey, white = 255)."""
    width_m, height_m = spec.size_m
    size = (round(width_m * px_per_m), round(height_m * px_per_m))
    return make_board(spec).generateImage(size, marginSize=0, borderBits=1)


def write_png(spec: BoardSpec, path: Path, dpi: int = 300) -> Path:
    import cv2

    image = board_image(spec, dpi / 0.0254)
    ok, encoded = cv2.imencode(".png", image)
    if not ok:
        raise CalibrationError(f"cannot encode the board as PNG for {path}")
    write_atomic(path, encoded.tobytes())
    return path


def write_pdf(spec: BoardSpec, path: Path, page: str = "a4", dpi: int = 300) -> Path:
    """A PDF whose page is `page` and whose squares measure exactly `square_m` at 100% scale.

    The board is placed as an image with an exact physical extent (not fitted to the page),
    with a 100 mm ruler and the definition printed under it so the printout can be checked.
    """
    import io

    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    width_m, height_m = spec.size_m
    if page == "fit":
        page_w, page_h = width_m * 1000 + 20, height_m * 1000 + 30
    elif page in PAGES_MM:
        page_w, page_h = PAGES_MM[page]
    else:
        raise CalibrationError(f"unknown page {page!r}; use one of a4, letter, a3, fit")
    board_w, board_h = width_m * 1000, height_m * 1000
    if board_w + 10 > page_w or board_h + 20 > page_h:
        raise CalibrationError(
            f"the board ({board_w:.0f}x{board_h:.0f} mm) does not fit on {page} "
            f"({page_w:g}x{page_h:g} mm) with margins; use --page a3/fit or smaller squares"
        )
    inch = 25.4
    fig = Figure(figsize=(page_w / inch, page_h / inch))
    left = (page_w - board_w) / 2
    bottom = (page_h - board_h) / 2 + 5
    axes = fig.add_axes((left / page_w, bottom / page_h, board_w / page_w, board_h / page_h))
    axes.imshow(
        board_image(spec, dpi / 0.0254),
        cmap="gray",
        vmin=0,
        vmax=255,
        interpolation="none",
        aspect="auto",
    )
    axes.set_axis_off()
    ruler = fig.add_axes((left / page_w, (bottom - 9) / page_h, 100 / page_w, 1.5 / page_h))
    ruler.add_patch(Rectangle((0, 0), 1, 1, color="black"))
    ruler.set_xlim(0, 1)
    ruler.set_ylim(0, 1)
    ruler.set_axis_off()
    fig.text(
        (left + 102) / page_w,
        (bottom - 9) / page_h,
        "100 mm at 100% scale  |  " + spec.describe(),
        fontsize=7,
        va="bottom",
    )
    buffer = io.BytesIO()
    fig.savefig(buffer, format="pdf", dpi=dpi)
    write_atomic(path, buffer.getvalue())
    return path


@dataclass(frozen=True)
class Detection:
    """ChArUco corners found in one image, matched to their board coordinates (metres)."""

    ids: np.ndarray  # (N,) int
    image_points: np.ndarray  # (N, 2) float32, pixels
    object_points: np.ndarray  # (N, 3) float32, board frame
    markers: int

    @property
    def count(self) -> int:
        return int(self.ids.shape[0])


def _gray(image: np.ndarray) -> np.ndarray:
    import cv2

    if image.ndim == 3:
        return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    return image


def _detect_with(board: Any, gray: np.ndarray) -> Detection:
    import cv2

    detector = cv2.aruco.CharucoDetector(board)
    corners, ids, _marker_corners, marker_ids = detector.detectBoard(gray)
    markers = 0 if marker_ids is None else len(marker_ids)
    if ids is None or len(ids) == 0:
        empty = np.zeros((0, 2), np.float32)
        return Detection(np.zeros(0, int), empty, np.zeros((0, 3), np.float32), markers)
    obj, img = board.matchImagePoints(corners, ids)
    return Detection(
        ids=ids.reshape(-1).astype(int),
        image_points=img.reshape(-1, 2).astype(np.float32),
        object_points=obj.reshape(-1, 3).astype(np.float32),
        markers=markers,
    )


def detect(image: np.ndarray, spec: BoardSpec, board: Any | None = None) -> Detection:
    """Detect the board; raises `CalibrationError` when markers show it is the wrong board."""
    gray = _gray(image)
    board = board if board is not None else make_board(spec)
    found = _detect_with(board, gray)
    if found.markers >= 4 and found.count < 4 and spec.legacy_matters:
        other = BoardSpec(**{**spec.to_json(), "legacy": not spec.legacy})
        if _detect_with(make_board(other), gray).count >= 4:
            flag = "--legacy" if other.legacy else "no --legacy"
            raise CalibrationError(
                f"the board in view uses the {'legacy (pre-4.6)' if other.legacy else 'new'} "
                f"ChArUco layout but the definition says otherwise; re-run with {flag} (or fix "
                "legacy in board.json)"
            )
    return found
