# Sourced by .ci/windows/setup and .ci/windows/run: where Windows CPython lives under wine.
# Everything is under one folder that .gitignore ignores (.venv-windows/ unless
# BOTO_SSO_OIDC_WINDOWS_ROOT says otherwise), so a second run reuses the first one's work.
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
root=${BOTO_SSO_OIDC_WINDOWS_ROOT:-$repo/.venv-windows}
# WINEDEBUG=-all: no wine diagnostics on the streams the tests read; mscoree and mshtml off: no
# offer to install wine's .NET and HTML engines when the prefix is made (Python needs neither).
export WINEPREFIX="$root/prefix" WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
# Where a Windows user's installer puts Python 3.13 for all users: a path with a space, so the
# console scripts' launchers and every line the package writes into a config must quote it.
windows_python='C:\Program Files\Python313\python.exe'
windows_scripts='C:\Program Files\Python313\Scripts'
python_dir="$WINEPREFIX/drive_c/Program Files/Python313"

# A wine path (Z:\...) for a Linux path.
winpath() { printf 'Z:%s' "$(printf '%s' "$1" | tr '/' '\\')"; }

# Run a Windows program with its standard streams on pipes: wine cannot give a Windows process a
# regular file as stdout ("init_sys_streams: Invalid handle"); `| cat` keeps the exit status
# (pipefail) and works under CI's redirections.
winrun() { wine "$@" 2>&1 | cat; }

# Start wine's session (wineserver and its services) with its standard streams on /dev/null: the
# services outlive the process that starts them and keep its streams open, so a first wine call
# on a pipe would hold that pipe open until wineserver exits. Ended by wine_session_stop.
wine_session_start() {
    (wineserver --persistent && wine wineboot) </dev/null >/dev/null 2>&1
}
wine_session_stop() { wineserver --kill 2>/dev/null || true; }
