"""setup.cfg is the one place the package is described: its package list must name every
package under zoo/, or a non-editable install silently leaves one out."""

import configparser
from pathlib import Path

from setuptools import find_packages

ROOT = Path(__file__).resolve().parents[1]


def _options():
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    return config


def test_setup_cfg_names_every_package_under_zoo_and_the_pretrained_folder():
    listed = set(_options()["options"]["packages"].split())
    found = set(find_packages(where=str(ROOT), include=["zoo", "zoo.*"]))
    assert listed == found | {"zoo._pretrained"}, (sorted(found - listed), sorted(listed - found))
    assert "zoo._pretrained = pretrained" in _options()["options"]["package_dir"]


def test_the_test_extra_installs_every_other_extra_without_repeating_their_pins():
    extras = _options()["options.extras_require"]
    others = sorted(name for name in extras if name != "test")
    assert f"zoo[{','.join(others)}]" in extras["test"].split()
    pins = [line for name in others for line in extras[name].split()]
    assert not set(pins) & set(extras["test"].split())
