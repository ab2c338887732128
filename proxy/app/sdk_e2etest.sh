#!/usr/bin/env bash
# The official OpenAI Node SDK against `llmproxy serve` (sdk_e2e/): each of
# the gateway's auth refusals reaches the SDK as the error class its status
# maps to (401 AuthenticationError, 403 PermissionDeniedError, 429
# RateLimitError) with the gateway's code and type; a plain and a streamed
# completion work through it. The SDK is installed by scripts/install-deps.
#   sdk_e2etest.sh LLMPROXY FAKE_OPENAI
set -euo pipefail
LLMPROXY=$1
FAKE=$2
SDK_DIR="$(cd "$(dirname "$0")" && pwd)/sdk_e2e"
# shellcheck source=proxy/app/e2e_lib.sh
source "$(dirname "$0")/e2e_lib.sh"
e2e_workdir sdk-e2e
fail() { echo "FAIL: $*"; echo "--- llmproxy log"; cat "$WORK"/proxy.log 2>/dev/null || true; exit 1; }
[ -d "$SDK_DIR/node_modules/openai" ] || fail "the OpenAI SDK is not installed: run scripts/install-deps"

start_fake fake
GW_PORT=$(free_port)
cat > "$WORK/gw.yaml" <<EOF2
server: {listen: "127.0.0.1:$GW_PORT"}
auth:
  enabled: true
  pipeline:
    - name: sdk
      type: static
      static:
        keys:
          - {key: sk-sdk-good}
          - {key: sk-sdk-disabled, status: disabled}
          - {key: sk-sdk-expired, expires_at: "2020-01-01T00:00:00Z"}
          - {key: sk-sdk-later, starts_at: "2099-01-01T00:00:00Z"}
          - {key: sk-sdk-elsewhere, allowed_ips: [192.0.2.0/24]}
          - {key: sk-sdk-spent, status: quota_exceeded}
backends:
  - {name: fake, url: "http://127.0.0.1:$PORT_fake"}
EOF2
"$LLMPROXY" serve --config "$WORK/gw.yaml" > "$WORK/proxy.log" 2>&1 &
PIDS+=($!)
listening_port "$WORK/proxy.log" > /dev/null
node "$SDK_DIR/openai_sdk_check.mjs" "http://127.0.0.1:$GW_PORT/v1" || fail "the SDK check"
echo "sdk e2e: the OpenAI SDK maps every refusal and streams through the gateway: pass"
