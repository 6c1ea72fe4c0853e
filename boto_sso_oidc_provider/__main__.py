"""``python -m boto_sso_oidc_provider`` runs the ``boto-sso-oidc`` command line."""

import sys

from .cli import main

sys.exit(main())
