"""Step 6 of the flow, over HTTP: role credentials served to other programs.

    container   the container-credentials endpoint (``exec``, ``serve``)
"""
