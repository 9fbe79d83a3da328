# Shared by scripts/kb and scripts/test: make sure .venv holds kb and its dependencies.
# Usage: source scripts/_setup.sh; ensure_venv [EXTRA]   (EXTRA: "" or "test")

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${KB_VENV:-$repo/.venv}"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 PIP_DISABLE_PIP_VERSION_CHECK=1

_find_python() {
  for candidate in "${PYTHON:-}" python3.11 python3.12 python3.13 python3; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      echo "$candidate"
      return 0
    fi
  done
  echo "kb needs Python 3.11 or newer; set PYTHON=/path/to/python3.11" >&2
  return 1
}

ensure_venv() {
  local extra="${1:-}"
  local stamp="$venv/.kb-installed"
  local wanted
  wanted="$(cat "$repo/pyproject.toml" | sha256sum | cut -c1-16)"
  if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && grep -q "^$wanted" "$stamp" &&
     { [ -z "$extra" ] || grep -q " $extra\$" "$stamp"; }; then
    return 0
  fi
  echo "Setting up kb in $venv (first run only; a few minutes)..." >&2
  if [ ! -x "$venv/bin/python" ]; then
    "$(_find_python)" -m venv "$venv"
  fi
  # CPU torch first: a bare `torch` requirement would pull a multi-GB CUDA build.
  "$venv/bin/python" -m pip install --quiet torch==2.13.0
  if [ -n "$extra" ]; then
    "$venv/bin/python" -m pip install --quiet -e "$repo[$extra]"
  else
    "$venv/bin/python" -m pip install --quiet -e "$repo"
  fi
  echo "$wanted ${extra}" > "$stamp"
}
