"""On-robot runtime for physical-AI models."""

__version__ = "0.1.0"
