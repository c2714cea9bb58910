"""Export side of a world-model bundle: the rollout graph, sample candidates, the ranking
check, the surprise monitor's calibration and the manifest's `world_model` section."""
