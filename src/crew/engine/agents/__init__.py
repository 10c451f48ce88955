"""The crew's roles, one module each: its prompt, its node function and its output schema."""
