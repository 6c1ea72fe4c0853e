"""Step 5, for a whole organization: every account and role an sso-session reaches.

    _listing    an organization listed at the service's pace (one rate limiter, adaptive
                concurrency, retries with jitter, one deadline)
    directory   the accounts and roles of an sso-session, cached (``list``, ``generate``)
    generate    the profiles ``generate`` writes: names from a template, collisions resolved
"""
