"""`make bench`: the gateway's doors against a floor, over PostgreSQL, driven by wrk."""
