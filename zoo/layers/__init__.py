"""Layers and cells of the zoo."""

from zoo.layers.crop import CropToReference

__all__ = ["CropToReference"]
