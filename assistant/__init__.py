"""assistant: a terminal coding assistant with measured speed and cost."""

__version__ = "0.1.0"
