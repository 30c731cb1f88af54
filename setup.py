"""Packaging beyond setup.cfg: the weights and cards in pretrained/ install as zoo._pretrained,
so a non-editable install carries every pretrained entry, the bundled data and the model
index."""

from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["zoo", "zoo.*"]) + ["zoo._pretrained"],
    package_dir={"zoo._pretrained": "pretrained"},
    # Here, not in setup.cfg: setuptools takes package_data from setup() over setup.cfg's.
    package_data={"zoo._pretrained": ["manifest.json", "*.weights.h5", "README.md"],
                  "zoo.data": ["bundled/*.gz", "bundled/*.md", "bundled/*.npz"],
                  "zoo.models": ["index.json"]},
)
