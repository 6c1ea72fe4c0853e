#!/bin/sh
# A new machine's AWS setup, without a single question (an onboarding script):
# one sso-session and one profile, then a profile for every account and role of the session,
# then the AWS CLI and the console with them. The login's browser page and code go to stderr.
set -eu

boto-sso-oidc configure --sso-session my-org --sso-start-url https://my-org.awsapps.com/start \
    --sso-region us-east-1 --account-id 111111111111 --role-name AdministratorAccess \
    --profile dev --region eu-west-1 --credential-process

boto-sso-oidc generate --sso-session my-org --region eu-west-1 --set output=json

aws sts get-caller-identity --profile dev-cli --query Arn --output text
aws sts get-caller-identity --profile Production.ReadOnlyAccess --query Arn --output text
boto-sso-oidc console --profile Production.ReadOnlyAccess --destination s3 --url
