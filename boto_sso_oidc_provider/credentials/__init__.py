"""Step 5 of the flow: role credentials, from the SSO token or from what is cached.

    role_credentials   ``RoleCredentialsManager``: SSO GetRoleCredentials behind the shared cache
    chained            role chains (``role_arn`` + ``source_profile``): STS AssumeRole per hop;
                       ``profile_credentials``, the one way every command gets a profile's
    console            a console sign-in URL for role credentials (the federation endpoint)
    _warm              the warm path: cached credentials as ``credential_process`` JSON without
                       botocore, or "take the full path"

Importing this package costs nothing: each module is imported by name.
"""
