"""Relational stores: the SQL base, chats and turns, traces, job ownership."""
