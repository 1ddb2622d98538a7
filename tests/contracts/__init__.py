"""Contract suites: tests written once against a port, run against each implementation of it."""
