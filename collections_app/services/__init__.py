"""Every write in the case domain. Each function is atomic and leaves an audit row."""
