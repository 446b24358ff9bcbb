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
exec mosquitto -c "$conf"
