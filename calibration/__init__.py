"""Calibration: field tools writing the artifacts edge_runtime reads."""
