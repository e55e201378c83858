"""The TUI's screens pushed over the main one, one per file."""
