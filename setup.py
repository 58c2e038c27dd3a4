"""Packages: `framework` as it is; the folders the product brief names `glue/` and `cdk/` under their own names.

`glue` and `cdk` are the names of unrelated PyPI distributions, so `glue/` installs as `onboard_glue`
(generated jobs import `from onboard_glue import run_job`) and `cdk/` as `onboard_cdk`.
"""

from setuptools import find_packages, setup

FOLDERS = {"glue": "onboard_glue", "cdk": "onboard_cdk"}

packages = find_packages(include=["framework", "framework.*"])
for folder, package in FOLDERS.items():
    packages += [package + name[len(folder):] for name in find_packages(include=[folder, f"{folder}.*"])]

setup(packages=packages, package_dir={package: folder for folder, package in FOLDERS.items()})
