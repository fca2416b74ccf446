#!/bin/bash
# An OCI hook that times another: runc runs this in place of the hook, with the
# container's state JSON on stdin, which goes on to the hook unread. The hook's
# duration (bash $EPOCHREALTIME right before it is started and right after it exits:
# the hook only, not runc) and its exit status are appended to LOG as one line
#   STAGE ID START END STATUS
# (START and END in seconds since the epoch, to the microsecond); its stderr goes to
# ERR-DIR/STAGE.ID. Exits with the hook's status, so runc sees what the hook did.
#
# usage: timed-hook.sh LOG ERR-DIR STAGE ID HOOK [ARG...]
#   as config.json's hook: {"path": ".../timed-hook.sh",
#                           "args": ["timed-hook", LOG, ERR-DIR, STAGE, ID, HOOK, ARG...]}
log=$1 err_dir=$2 stage=$3 id=$4
shift 4
exec 3>"$err_dir/$stage.$id"
start=$EPOCHREALTIME
"$@" 2>&3
status=$?
end=$EPOCHREALTIME
exec 3>&-
# One short line, one write(2) in O_APPEND: lines of concurrent hooks do not mix.
printf '%s %s %s %s %s\n' "$stage" "$id" "$start" "$end" "$status" >>"$log"
exit "$status"
