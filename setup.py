"""Packages: framework and onboard_glue as they are, and the CDK app in cdk/ as `onboard_cdk`.

`cdk` itself is the name of an unrelated PyPI distribution, so the folder the product brief names
`cdk/` is installed under its own name (as glue/ became onboard_glue).
"""

from setuptools import find_packages, setup

CDK_FOLDER, CDK_PACKAGE = "cdk", "onboard_cdk"

packages = find_packages(include=["framework", "framework.*", "onboard_glue", "onboard_glue.*"])
packages += [CDK_PACKAGE + name[len(CDK_FOLDER):] for name in find_packages(include=[CDK_FOLDER, f"{CDK_FOLDER}.*"])]

setup(packages=packages, package_dir={CDK_PACKAGE: CDK_FOLDER})
