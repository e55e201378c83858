"""Which packages the distribution holds (the rest of the metadata is pyproject.toml's).

The repository's probes/ folder installs as aksdiag.probes, so no top-level `probes` lands in site-packages; the
packages are found, not listed, so a new subpackage (aksdiag.lab.kube, aksdiag.probes.lb) cannot be forgotten.
"""

from setuptools import find_packages, setup

probes = ["aksdiag.probes", *(f"aksdiag.probes.{p}" for p in find_packages("probes"))]
setup(packages=[*find_packages(include=["aksdiag", "aksdiag.*"]), *probes], package_dir={"aksdiag.probes": "probes"})
