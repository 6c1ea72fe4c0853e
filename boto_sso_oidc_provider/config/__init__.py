"""Step 1 of the flow: the AWS shared config and credentials files, read and written here only.

    _settings   this package's own settings: keys, old names, variables, how a value is read
    _scan       the warm path's reader: the few sections one profile needs, found without a
                full parse, or "not sure" (the caller then takes the full path)
    reader      ``AWSConfig``: botocore's own parse, typed questions about profiles and
                sso-sessions (the reference every other reader must agree with)
    writer      the one writer: line-preserving, locked, atomic edits checked against botocore

The two readers sit side by side on purpose: ``tests/config/`` proves they agree. Nothing
outside this folder opens the AWS config or credentials file (``tests/test_design.py``).
Importing this package costs nothing: each module is imported by name.
"""
