"""The simulated robot: a MuJoCo desk arm, its camera and its servos' physics.

Nothing here is imported on the device path; mujoco and onnx load only inside these modules.

- `world`: `SimWorld` (the MJCF `arm.xml`, seeded targets, manual or real-time stepping)
- `plant`: `MujocoPlant`, the `ServoPlant` the simulated Dynamixel chain drives
- `render` / `camera`: RGB-D rendering on the CPU; `SimCamera`, the `Camera` port's twin
- `expert` / `episodes`: MuJoCo-Jacobian IK expert; `collect_episodes` for training data
- `analytic_graphs` / `analytic_bundle`: the labelled, untrained ONNX reference policy
- `episode_runner`: closed-loop, manual-time episodes for any controller and perturbation
- `evaluate`: a bundle's closed-loop task success in simulation
- `perturbations` (`perturbation_base`, `arm_perturbations`, `view_perturbations`): the named
  mid-episode disturbances of docs/perturbations.md
- `perturbation_suite` / `paired_stats` / `world_model_suite`: conditions x controllers on
  paired seeds in a process pool, their statistics, the world-model benchmark's numbers
- `rig` / `shared_camera`: the simulated robot in its own process, as the runtime sees it
  (servos on a pty behind the real Dynamixel driver, camera frames over shared memory)
- `robot.toml`: the robot config of the simulated arm
"""
