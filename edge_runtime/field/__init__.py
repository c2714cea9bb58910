"""The robot in the field: a stop that stays stopped, systemd, selftest, A/B bundle deploy.

- `state_dir`: where state that outlives a process lives (latch, ack log, bundle slots);
- `latch`: a safety stop's reason on disk until `edgerun ack`; `service`: `run` around it;
- `notify`, `health`: systemd's notify protocol, READY/WATCHDOG from the control loop's ticks;
- `selftest*`: the checks before arming; `slots`, `deploy`: A/B bundles and rollback;
- `status`: what `edgerun status` / `ack` show; `device_checks`: `doctor`'s Jetson lines.
"""
