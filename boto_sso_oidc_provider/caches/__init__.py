"""Step 4 of the flow: the locked caches shared with the AWS CLI v2, and their freshness.

    _layout        every path and key of the files shared with the AWS CLI v2 and botocore
    _freshness     FRESH / STALE / EXPIRED and every window, decided by one function
    _entry         one JSON file per entry: locked, atomic, owner-only, never through a link
    _session_end   when this machine's login of an sso-session began, so when it ends
    token          ``TokenManager``: the SSO token behind its lock: load, refresh, log in

Importing this package costs nothing: each module is imported by name (the warm path
imports ``_layout``, ``_freshness`` and ``_session_end`` and nothing heavier).
"""
