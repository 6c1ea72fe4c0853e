"""Steps 2 and 3 of the flow: logging a person in, one family of modules.

    registration         SSO OIDC RegisterClient, cached with the AWS CLI v2's key
    device_authorization the RFC 8628 device authorization grant (headless logins)
    authorization_code   the RFC 7636 authorization code grant with PKCE (browser logins)
    _loopback_callback   the browser login's listener on 127.0.0.1 and its callback page
    _start_url           vanity start URLs resolved to the AWS-owned portal URL and its region
    _flows               one login, either flow: start URL, registration, grant

:mod:`..caches.token` decides *when* a login is needed and which flow runs; this family runs it.
"""
