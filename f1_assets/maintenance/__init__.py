"""Maintenance: scheduled Delta compaction and vacuum of every table."""
