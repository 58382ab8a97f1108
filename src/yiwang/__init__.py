"""Yiwang (一网治理): grid governance for a city district."""

__version__ = "0.1.0"
