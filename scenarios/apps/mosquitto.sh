#!/bin/sh
# mosquitto (Debian) over TLS on the workload's host address and port, for a qoslab
# `command` workload: the configuration is written from the environment qoslab gives the
# program (QOSLAB_HOST_ADDR, QOSLAB_PORT, the host's QOSLAB_CERT and QOSLAB_KEY) into its
# scratch folder, then mosquitto runs in the foreground, logging to stdout.
set -eu
conf="$QOSLAB_TMP/mosquitto.conf"
cat > "$conf" <<CONF
# Started as root in a lab namespace: stay root (the key file is root's).
user root
allow_anonymous true
persistence false
log_dest stdout
listener $QOSLAB_PORT $QOSLAB_HOST_ADDR
certfile $QOSLAB_CERT
keyfile $QOSLAB_KEY
CONF
# The lab's resolver answers the host's name with its IPv6 address too, which clients try
# first: listen there as well, or each connection starts with a refused attempt.
if [ -n "${QOSLAB_HOST_ADDR6:-}" ]; then
  printf 'listener %s %s\ncertfile %s\nkeyfile %s\n' "$QOSLAB_PORT" "$QOSLAB_HOST_ADDR6" "$QOSLAB_CERT" "$QOSLAB_KEY" >> "$conf"
fi
exec mosquitto -c "$conf"
