"""Quality: the Great Expectations suites (expectations/) as asset checks, scheduled and after gold."""
