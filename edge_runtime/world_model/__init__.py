"""The world model at work on the robot: a planner that looks ahead, a monitor that notices."""
