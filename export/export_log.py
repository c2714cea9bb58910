"""A quiet console during exports: third-party warnings and log lines go to the export log file.

The quantizer logs through the root logger (a dozen `WARNING root:` / `INFO root:` lines per
model), torch's exporter and ONNX raise Python warnings, and the bundle reader warns about
the unsigned staging bundle the task gate loads: none of it is actionable for the person
exporting, and it buries the progress and the result tables. While `quiet_console` is active
every log record and warning is written to the log file; the console keeps only the project's
errors (and whatever the export prints itself). The file ends up in `OUT/reports/export.log`,
beside the reports that explain a refused export; it is not hashed into the manifest, because
the export writes it after the bundle is sealed.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOG_NAME = "reports/export.log"
PROJECT_LOGGERS = ("edge_runtime", "export", "calibration", "firmware_bridge", "edgerun")


class _ProjectErrorsOnly(logging.Filter):
    """What a console handler still shows during an export: the project's own errors."""

    def filter(self, record: logging.LogRecord) -> bool:
        ours = record.name.split(".")[0] in PROJECT_LOGGERS
        return ours and record.levelno >= logging.ERROR


@contextmanager
def quiet_console(out_dir: str | Path) -> Iterator[Path]:
    """Route logging and warnings to a log file, copied to `out_dir`/reports/export.log at the
    end (success or failure): the export replaces `out_dir` wholesale, so it is written aside."""
    root = logging.getLogger()
    console_filter = _ProjectErrorsOnly()
    with tempfile.TemporaryDirectory(prefix="edgerun-export-log-") as tmp:
        log_path = Path(tmp) / "export.log"
        file_handler = logging.FileHandler(log_path, encoding="utf-8")
        file_handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
        )
        saved_level = root.level
        for handler in root.handlers:
            handler.addFilter(console_filter)
        root.addHandler(file_handler)
        root.setLevel(min(saved_level or logging.INFO, logging.INFO))
        logging.captureWarnings(True)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("default")  # each distinct warning once, into the file
                yield log_path
        finally:
            logging.captureWarnings(False)
            root.removeHandler(file_handler)
            file_handler.close()
            for handler in root.handlers:
                handler.removeFilter(console_filter)
            root.setLevel(saved_level)
            target = Path(out_dir) / LOG_NAME
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(log_path, target)
