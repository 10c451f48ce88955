"""Crew: a coordinator, researchers, a writer and a critic answering a goal with cited sources."""
