"""Streams: the bronze and silver tables as assets, the stream jobs and the sensors that keep them alive."""
