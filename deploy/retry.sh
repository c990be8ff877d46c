#!/bin/sh
# Runs the command it is given, and runs it again when it exits 1, settle's internal error (a full
# disk, say), which is worth retrying: at most RETRIES more times (3), RETRY_DELAY seconds apart
# (900). Exit codes 2 (unusable dataset) and 3 (rows rejected under --strict) need a person to fix
# the inputs, so they are never retried; neither is 0, nor a crash or a kill. The last exit code is
# returned, so cron still mails what the last try printed on stderr.
#
#   retry.sh /usr/local/bin/settle run --inputs … --out … --json
#
# `make install` puts it at PREFIX/lib/settle/retry.
set -u
tries=${RETRIES:-3}
delay=${RETRY_DELAY:-900}
done_tries=0
while :; do
    "$@"
    code=$?
    if [ "$code" -ne 1 ] || [ "$done_tries" -ge "$tries" ]; then
        exit "$code"
    fi
    done_tries=$((done_tries + 1))
    echo "retry: exit code 1 (internal error); try $((done_tries + 1)) of $((tries + 1)) in ${delay}s" >&2
    sleep "$delay"
done
