"""Local servers speaking outside services' protocols, for the tests (and the scheduler's)."""
