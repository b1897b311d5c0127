#!/bin/sh
# Starts one of the three Sentinels (official Redis image) watching the master redis-0 as
# "service-recovery" (quorum 2). Sentinel rewrites its own config, so it is made afresh
# in a writable folder at each start; the password stays out of every command line.
set -eu
umask 077
ns="${POD_NAMESPACE}"
conf=/run/sentinel/sentinel.conf
cat > "$conf" <<CONF
port 26379
sentinel resolve-hostnames yes
sentinel announce-hostnames yes
sentinel announce-ip ${HOSTNAME}.sentinel-headless.${ns}.svc.cluster.local
requirepass ${REDIS_PASSWORD}
sentinel sentinel-pass ${REDIS_PASSWORD}
sentinel monitor service-recovery redis-0.redis-headless.${ns}.svc.cluster.local 6379 2
sentinel auth-pass service-recovery ${REDIS_PASSWORD}
sentinel down-after-milliseconds service-recovery 5000
sentinel failover-timeout service-recovery 60000
sentinel parallel-syncs service-recovery 1
CONF
exec redis-sentinel "$conf"
