"""The runtime pipeline: inference worker, action-chunk queue, safety filter, control loop."""
