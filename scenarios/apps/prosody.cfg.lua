-- prosody for a qoslab `command` workload: everything from the environment qoslab sets.
run_as_root = true
daemonize = false
pidfile = ENV_QOSLAB_TMP .. "/prosody.pid"
data_path = ENV_QOSLAB_TMP
certificates = ENV_QOSLAB_TMP
-- Both addresses: the lab's resolver gives clients the IPv6 one too, which they try first.
interfaces = { ENV_QOSLAB_HOST_ADDR, ENV_QOSLAB_HOST_ADDR6 }
c2s_ports = { tonumber(ENV_QOSLAB_PORT) }
s2s_ports = {}
modules_enabled = { "roster", "saslauth", "tls", "disco", "ping" }
modules_disabled = { "s2s" }
log = { { levels = { min = "info" }, to = "console" } }
c2s_require_encryption = true
VirtualHost (ENV_QOSLAB_HOST)
  authentication = "anonymous"
  ssl = { certificate = ENV_QOSLAB_CERT, key = ENV_QOSLAB_KEY }
