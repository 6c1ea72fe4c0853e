"""Step 7 of the flow, over HTTP: role credentials served to other programs.

    _http       the hardened HTTP front both servers share
    _source     what they serve: fresh, renewed once for everyone, backed off
    container   the container-credentials endpoint (``exec``, ``serve``)
    imds        the instance-metadata (IMDSv2) endpoint (``serve --imds``)
"""
