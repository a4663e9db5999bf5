#!/usr/bin/env bash
# Deploys the stack to LocalStack with cdklocal (npm run local:deploy).
#
# Needs a running LocalStack (Docker). Pinned image (tested version family; see docs/local.md):
#   docker run --rm -d --name localstack -p 4566:4566 \
#     -v /var/run/docker.sock:/var/run/docker.sock \
#     localstack/localstack:4.4.0
# Lambda functions run in containers that LocalStack starts, hence the Docker socket.
#
# Environment:
#   LOCALSTACK_ENDPOINT  health URL (default http://localhost:4566/_localstack/health)
#   STACK_NAME           stack to deploy (default: the config's stackName, AgentFleet)
set -euo pipefail
cd "$(dirname "$0")/.."

HEALTH="${LOCALSTACK_ENDPOINT:-http://localhost:4566/_localstack/health}"
if ! curl -fsS --max-time 3 "$HEALTH" >/dev/null; then
  echo "No LocalStack endpoint answers at $HEALTH." >&2
  echo "Start one, e.g.: docker run --rm -d -p 4566:4566 -v /var/run/docker.sock:/var/run/docker.sock localstack/localstack:4.4.0" >&2
  exit 1
fi

export AWS_REGION="${AWS_REGION:-us-east-1}"
export AWS_DEFAULT_REGION="$AWS_REGION"
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-test}"
export AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-test}"

echo "Bootstrapping LocalStack ($AWS_REGION)..."
npx cdklocal bootstrap "aws://000000000000/$AWS_REGION"
mkdir -p .local
echo "Deploying..."
npx cdklocal deploy ${STACK_NAME:+"$STACK_NAME"} --require-approval never --outputs-file .local/localstack-outputs.json
echo "Deployed. Outputs in .local/localstack-outputs.json; run: npm run test:localstack"
