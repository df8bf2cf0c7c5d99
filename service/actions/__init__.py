"""What people and devices may do, by role and scope: the domain layer under `api/` (JSON) and `web/` (pages).

Functions here take a database session and the principal, and raise `ActionError`s (not found, forbidden,
conflict, invalid, gone); `api/` turns them into status codes and `{"detail": {"reason", "message"}}`,
`web/` into pages and redirects. Neither imports the other.
"""
