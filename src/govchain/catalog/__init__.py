"""Catalog of shared datasets: resources, versions and catalog imports."""
