"""The world model on the robot: surprise scores (here), the monitor and the planner.

`surprise` holds the pure scoring functions that the exporter's threshold calibration and the
runtime's monitor share, so both compute exactly the same numbers.
"""
