"""Simulated devices on pseudo-terminals: the twins behind the real drivers."""
