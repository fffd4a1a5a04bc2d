"""Visit logs (check-in, what was found, outcome, evidence). Models arrive with the workflow issue."""
