"""Run a turn: the service, the graph, its state, limits, events, agents and tools."""
