"""The simulated robots `edgerun demo --robot NAME` runs, by name: their configs ship here.

The desk arm (`make demo`) is the sim package's robot.toml; the others show the shapes real
robots take: the same arm on two motor buses, and the richer robot with a wrist camera beside
the scene camera and its motors on two buses. Kept free of imports so the CLI can list them.
"""

DEMO_ROBOTS = {
    "arm": "robot.toml",
    "two-bus": "robots/two_bus.toml",
    "two-camera": "robots/two_camera.toml",
}
