#!/usr/bin/env bash
# Run a test command with two CPU busy loops beside it, the way a shared or busy machine runs it.
#   scripts/test_under_load.sh                 runs the README's test command, `make test`
#   scripts/test_under_load.sh CMD [ARGS...]    runs CMD instead, e.g.
#   scripts/test_under_load.sh .venv/bin/python -m pytest tests/test_resume.py
# The busy loops are stopped however this ends (the command ends, Ctrl-C, kill); the exit status is the
# command's (130 after Ctrl-C, 143 after a kill, with the command stopped too).
set -u

if [ "$#" -eq 0 ]; then
    set -- make test
fi

hogs=()
command_pid=
stop_hogs() {
    local pid
    for pid in "${hogs[@]}"; do
        kill "$pid" 2>/dev/null
    done
    for pid in "${hogs[@]}"; do
        wait "$pid" 2>/dev/null
    done
    hogs=()
}
stop_all() {
    # The command runs in a session of its own (when setsid is there), so this ends make and its pytest too.
    if [ -n "$command_pid" ]; then
        kill -TERM -- "-$command_pid" 2>/dev/null || kill -TERM "$command_pid" 2>/dev/null
    fi
    stop_hogs
    exit "$1"
}
trap stop_hogs EXIT
trap 'stop_all 130' INT
trap 'stop_all 143' TERM

for _ in 1 2; do
    ( trap - INT TERM EXIT; while :; do :; done ) &
    hogs+=("$!")
done
echo "test_under_load: busy loops (pids ${hogs[*]}) beside: $*" >&2

started=$SECONDS
# In the background, so that a signal to this script is handled at once rather than after the command.
if command -v setsid >/dev/null; then
    setsid "$@" &
else
    "$@" &
fi
command_pid=$!
wait "$command_pid"
status=$?
command_pid=
echo "test_under_load: exit status $status after $((SECONDS - started)) s" >&2
exit "$status"
