#!/bin/sh
# Starts one of the three Sentinels (official Redis image) watching the master as
# "service-recovery" (quorum 2): redis-0 at first, or the master the other Sentinels name
# when they are up (after a failover it is another pod). Sentinel rewrites its own config,
# so it is made afresh in a writable folder at each start; the password stays out of
# every command line.
set -eu
umask 077
ns="${POD_NAMESPACE}"
conf=/run/sentinel/sentinel.conf
master="redis-0.redis-headless.${ns}.svc.cluster.local"
for n in 0 1 2; do
    other="sentinel-${n}.sentinel-headless.${ns}.svc.cluster.local"
    [ "${other}" = "${HOSTNAME}.sentinel-headless.${ns}.svc.cluster.local" ] && continue
    named=$(REDISCLI_AUTH="${REDIS_PASSWORD}" timeout 3 redis-cli -h "${other}" -p 26379 --raw \
        sentinel get-master-addr-by-name service-recovery 2>/dev/null | head -n 1) || named=""
    if [ -n "$named" ]; then
        master="$named"
        break
    fi
done
cat > "$conf" <<CONF
port 26379
sentinel resolve-hostnames yes
sentinel announce-hostnames yes
sentinel announce-ip ${HOSTNAME}.sentinel-headless.${ns}.svc.cluster.local
requirepass ${REDIS_PASSWORD}
sentinel sentinel-pass ${REDIS_PASSWORD}
sentinel monitor service-recovery ${master} 6379 2
sentinel auth-pass service-recovery ${REDIS_PASSWORD}
sentinel down-after-milliseconds service-recovery 5000
sentinel failover-timeout service-recovery 60000
sentinel parallel-syncs service-recovery 1
CONF
exec redis-sentinel "$conf"
