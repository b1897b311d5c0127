"""What every route shares: JSON bodies and errors (http.py), signed tokens (signing.py),
the app's typed keys (appkeys.py) and every middleware (middlewares.py)."""
