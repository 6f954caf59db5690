"""Security tooling: the hostile-input sweep and admin login throttling."""
