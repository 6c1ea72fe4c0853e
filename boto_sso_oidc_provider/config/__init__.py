"""Step 1 of the flow: the AWS shared config and credentials files, read and written here only.

    _settings   this package's own settings: keys, old names, variables, how a value is read
    _loader     botocore's loader replicated on the bytes read (standard library only): where
                the files are, which profile is the default, the parse, the profile map
    reader      ``AWSConfig``: typed questions about profiles and sso-sessions, over botocore's
                parse (the full path) or ``_loader``'s (the warm path): one reading for both
    _resolved   the warm path's memo: what ``reader`` said about one profile, kept while the
                files hold the same bytes
    writer      the one writer: line-preserving, locked, atomic edits checked against botocore

``tests/config/`` checks ``_loader`` and ``reader`` against botocore's own loader and provider
chain on generated files. Nothing outside this folder opens the AWS config or credentials file
(``tests/test_design.py``).
Importing this package costs nothing: each module is imported by name.
"""
