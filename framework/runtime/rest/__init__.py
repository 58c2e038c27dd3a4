"""The HTTP side of `rest_api` sources: retries, auth, pagination and records (stdlib only)."""
