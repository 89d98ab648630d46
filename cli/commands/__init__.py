"""One function per command: ``(args, settings) -> exit code``."""
