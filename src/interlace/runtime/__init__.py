"""The actor runtime that executes runs: manager, supervisors, tasks, event bus."""
