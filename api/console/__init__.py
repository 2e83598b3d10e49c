"""The web console: pages served by the service itself, in Chinese and English, that sign in with
an API key exchanged for a session cookie and then use the same JSON API (and so the same role
checks) as every other client. Statements are verified against the chain by the browser."""
