"""Packaging beyond setup.cfg: the weights and cards in pretrained/ install as zoo._pretrained,
so a non-editable install carries every pretrained entry."""

from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["zoo", "zoo.*"]) + ["zoo._pretrained"],
    package_dir={"zoo._pretrained": "pretrained"},
    package_data={"zoo._pretrained": ["manifest.json", "*.weights.h5", "README.md"]},
)
