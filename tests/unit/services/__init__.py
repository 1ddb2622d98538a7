"""Unit tests of each service module, over the in-memory fakes in tests/fakes."""
