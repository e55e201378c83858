"""Sources: all I/O lives here. Each turns needs into facts and returns failures as facts, never verdicts."""
