"""The tools a task's model calls (read, list, grep, edit, write, run), headless."""
