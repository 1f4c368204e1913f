"""The Redis store: one store shared by many processes and machines (being built)."""
