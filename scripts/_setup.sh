# Shared by scripts/kb and scripts/test: make sure .venv holds kb and its dependencies.
# Usage: source scripts/_setup.sh; ensure_venv [EXTRAS]   (EXTRAS: "", "test" or "test,ray")

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
  local wanted_extras="${1:-}"
  local stamp="$venv/.kb-installed"
  local hash installed="" extras missing=""
  hash="$(sha256sum < "$repo/pyproject.toml" | cut -c1-16)"
  # The stamp says which pyproject.toml and which extras the venv was installed from.
  if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cut -d' ' -f1 "$stamp")" = "$hash" ]; then
    installed="$(cut -s -d' ' -f2 "$stamp")"
    for extra in ${wanted_extras//,/ }; do
      case ",$installed," in *",$extra,"*) ;; *) missing=1 ;; esac
    done
    [ -z "$missing" ] && return 0
  fi
  echo "Setting up kb in $venv (first run only; a few minutes)..." >&2
  if [ ! -x "$venv/bin/python" ]; then
    "$(_find_python)" -m venv "$venv"
  fi
  # CPU torch first: a bare `torch` requirement would pull a multi-GB CUDA build.
  "$venv/bin/python" -m pip install --quiet torch==2.13.0
  extras="$(printf '%s\n' ${installed//,/ } ${wanted_extras//,/ } | sort -u | paste -sd, -)"
  if [ -n "$extras" ]; then
    "$venv/bin/python" -m pip install --quiet -e "$repo[$extras]"
  else
    "$venv/bin/python" -m pip install --quiet -e "$repo"
  fi
  echo "$hash $extras" > "$stamp"
}
