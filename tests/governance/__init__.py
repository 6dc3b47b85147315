"""Tests of govchain.governance; a package so that test module names stay unique."""
