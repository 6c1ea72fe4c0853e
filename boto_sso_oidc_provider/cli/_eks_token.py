"""``boto-sso-oidc eks-token --cluster-name C``: ``aws eks get-token`` for kubectl, from the warm path.

As the exec plugin of a kubeconfig user::

    users:
    - name: dev-cluster
      user:
        exec:
          apiVersion: client.authentication.k8s.io/v1beta1
          command: boto-sso-oidc
          args: [--region, us-east-1, eks-token, --cluster-name, dev-cluster]
          env: [{name: AWS_PROFILE, value: dev}]

stdout carries the ``ExecCredential`` exactly as ``aws eks get-token --output json``
prints it (the API version ``KUBERNETES_EXEC_INFO`` asks for) and nothing else; the
AWS CLI's notes about that variable and every error go to stderr. With the profile's
role credentials cached, the token comes from a small cache beside them, or is signed
without importing botocore (see :mod:`boto_sso_oidc_provider.credentials._eks_token`); otherwise
the credentials are refreshed exactly as ``credential-process`` refreshes them (one
refresh for any number of kubectl processes at once, the same cool-down after a failed
login, the same errors) and botocore signs, as the AWS CLI does.

The credentials are those the AWS CLI's chain would sign with: with
``AWS_ACCESS_KEY_ID`` in the environment and no ``--profile`` (a profile named only by
``AWS_PROFILE``, as ``aws eks update-kubeconfig`` writes it, or none), the
environment's, read by botocore's own provider (its errors as they are), for the
endpoint the profile's settings choose, and nothing is cached; an explicit
``--profile`` takes them out of the chain, as it does in the AWS CLI.

``--output`` takes the AWS CLI's formats: ``json`` (the default, and what kubectl
reads) and ``text`` are printed as the AWS CLI prints them; ``table``, ``yaml`` and
``yaml-stream``, formats for people, are refused (exit 2). The profile's ``output``
setting and ``AWS_DEFAULT_OUTPUT`` are not read: an exec plugin must print JSON, which
is why ``aws eks update-kubeconfig`` writes ``--output json`` into the stanza.

Exit codes: 0 token printed; 1 failure (one line on stderr); 2 usage.
"""

from __future__ import annotations

import os
import sys

from ._common import EXIT_OK, EXIT_USAGE, add_debug, report

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:  # pragma: no cover
    import argparse
    from collections.abc import Sequence
    from typing import Any

    from ..credentials._eks_token import EksToken

_COMMAND = "eks-token"
_MISSING_CLUSTER = "Either parameter --cluster-name or --cluster-id must be specified."
# Options of `aws eks get-token` (and the AWS CLI's globals kubeconfigs carry) this command takes.
_VALUE_OPTIONS = {"--cluster-name": "cluster_name", "--cluster-id": "cluster_id", "--role-arn": "role_arn",
                  "--role": "role_arn", "--profile": "profile", "--region": "region", "--output": "output"}


def configure(parser: argparse.ArgumentParser) -> None:
    from ._configure import OUTPUT_FORMATS

    parser.epilog = ("The output is aws eks get-token's ExecCredential, in the API version "
                     "KUBERNETES_EXEC_INFO asks for. Exit codes: 0 token printed on stdout, "
                     "1 failure (reason on stderr), 2 bad usage.")
    cluster = parser.add_mutually_exclusive_group()
    cluster.add_argument("--cluster-name", metavar="NAME",
                         help="the EKS cluster to make a token for (its name)")
    cluster.add_argument("--cluster-id", metavar="ID",
                         help="the cluster's id instead (local clusters on AWS Outposts)")
    parser.add_argument("--role-arn", "--role", metavar="ARN", dest="role_arn",
                        help="assume this role with the profile's credentials and sign with it "
                             "(as aws eks get-token --role-arn: session name EKSGetTokenAuth)")
    parser.add_argument("--output", choices=OUTPUT_FORMATS, default="json",
                        help="json (the default: what kubectl reads) or text, as the AWS CLI prints "
                             "them; its table, yaml and yaml-stream are refused")
    add_debug(parser)


def fast_main(argv: Sequence[str]) -> int | None:
    """The options above, each ``--name VALUE`` or ``--name=VALUE``, once: run without argparse."""
    from ..credentials._eks_token import OUTPUTS

    found: dict[str, str] = {}
    index = 0
    while index < len(argv):
        name, equals, value = argv[index].partition("=")
        if not equals:
            if index + 1 >= len(argv):
                return None
            value = argv[index + 1]
            index += 1
        index += 1
        field = _VALUE_OPTIONS.get(name)
        if field is None or field in found or not value or value.startswith("-"):
            return None
        found[field] = value
    if found.get("output", "json") not in OUTPUTS or ("cluster_name" in found) == ("cluster_id" in found):
        return None  # argparse says what is wrong
    return eks_token(found.get("cluster_name") or found["cluster_id"], profile=found.get("profile"),
                     region=found.get("region"), role_arn=found.get("role_arn"),
                     output=found.get("output", "json"))


def run(args: argparse.Namespace) -> int:
    from ..credentials._eks_token import OUTPUTS

    cluster = args.cluster_name or args.cluster_id
    if not cluster:
        print(_MISSING_CLUSTER, file=sys.stderr)
        return EXIT_USAGE
    if args.output not in OUTPUTS:
        print(f"boto-sso-oidc eks-token: --output {args.output}: eks-token prints json (what kubectl "
              f"reads) or text; for {args.output}, run aws eks get-token", file=sys.stderr)
        return EXIT_USAGE
    return eks_token(cluster, profile=args.profile, region=args.region, role_arn=args.role_arn,
                     output=args.output, debug=args.debug)


def eks_token(cluster: str, *, profile: str | None, region: str | None, role_arn: str | None,
              output: str = "json", debug: bool = False) -> int:
    """Print the ``ExecCredential`` for ``cluster``; the exit code."""
    from ..config._loader import default_profile
    from ..credentials._eks_token import exec_api_version, exec_credential

    api_version, note = exec_api_version(os.environ.get("KUBERNETES_EXEC_INFO"))
    if note is not None:
        print(note, file=sys.stderr)
    if profile is None and os.environ.get("AWS_ACCESS_KEY_ID"):
        # The AWS CLI's chain: the environment's credentials before a profile it was not given.
        try:
            token = _environment_token(cluster, region, role_arn, debug=debug)
        except Exception as error:  # every failure is one line for kubectl to show
            return report(_COMMAND, error, debug=debug)
    else:
        profile = profile or default_profile()
        try:
            token = _token(profile, cluster, region, role_arn, debug=debug)
        except Exception as error:  # every failure is one line for kubectl to show
            return report(_COMMAND, error, debug=debug, profile=profile)
    sys.stdout.write(exec_credential(api_version, token, output=output))
    sys.stdout.flush()
    return EXIT_OK


def _token(profile: str, cluster: str, region: str | None, role_arn: str | None, *,
           debug: bool) -> EksToken:
    from ..config._resolved import resolve
    from ..credentials._eks_token import cache_file, warm_token
    from ..credentials._warm import cached_process_answer
    from ._credentials import enter_chain

    enter_chain(profile)
    resolution = resolve(profile)
    # A [services] section would decide the endpoint from outside the profile: no cache then.
    path = None if resolution is None or "services" in resolution.values else \
        cache_file(profile, cluster, region, role_arn, resolution.values, os.environ)
    credentials, notice = cached_process_answer(profile, resolution=resolution)
    if credentials is not None:
        from ._common import warn

        warn(notice)  # the session ends within minutes: stderr, never stdout
        if path is not None:
            token = warm_token(path, cluster, role_arn, credentials)
            if token is not None:
                return token
    return _full_path(path, profile, cluster, region, role_arn, credentials, debug=debug)


def _full_path(path: str | None, profile: str, cluster: str, region: str | None, role_arn: str | None,
               credentials: dict[str, Any] | None, *, debug: bool) -> EksToken:
    """botocore signs, with the profile's cached credentials, else those of ``credential-process``'s
    full path (which refreshes them, or logs in, once for every process waiting)."""
    from ..credentials._eks_token import botocore_token
    from ._common import quiet_stdout, setup_logging
    from ._credentials import full_path_output

    if credentials is None:
        credentials = full_path_output(profile, debug=debug)
    setup_logging(debug)
    with quiet_stdout():
        return botocore_token(path, profile=profile, cluster=cluster, region=region, role_arn=role_arn,
                              credentials=credentials)


def _environment_token(cluster: str, region: str | None, role_arn: str | None, *, debug: bool) -> EksToken:
    """botocore signs with the environment's credentials, for the profile ``AWS_PROFILE`` names (if
    any), as the AWS CLI does; nothing is cached."""
    from ..credentials._eks_token import botocore_token, environment_credentials
    from ._common import quiet_stdout, setup_logging

    setup_logging(debug)
    with quiet_stdout():
        return botocore_token(None, profile=None, cluster=cluster, region=region, role_arn=role_arn,
                              credentials=environment_credentials())
