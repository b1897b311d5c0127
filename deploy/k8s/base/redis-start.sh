#!/bin/sh
# Starts one Redis of the StatefulSet `redis` (official image). The first start of all:
# redis-0 is the master, any other ordinal its replica (the production overlay runs
# three). With Sentinels (REDIS_SENTINELS, production overlay), the master is
# whichever pod they name, so a pod started again after a failover, redis-0 included,
# comes back as a replica of the promoted one, never as a second master. The password
# comes from the Secret through the environment and goes into a file only this user
# reads, never onto a command line. Past REDIS_MAXMEMORY writes fail rather than evict
# anyone's case.
set -eu
umask 077
headless="redis-headless.${POD_NAMESPACE}.svc.cluster.local"
me="${HOSTNAME}.${headless}"
master="redis-0.${headless}"
for sentinel in $(echo "${REDIS_SENTINELS:-}" | tr ',' ' '); do
    # get-master-addr-by-name answers the master's name, then its port (hostnames:
    # sentinel-start.sh announces them). No answer (first start, or none up): redis-0.
    named=$(REDISCLI_AUTH="${REDIS_PASSWORD}" timeout 3 redis-cli -h "${sentinel%:*}" -p "${sentinel##*:}" \
        --raw sentinel get-master-addr-by-name "${REDIS_MASTER_NAME:-service-recovery}" 2>/dev/null \
        | head -n 1) || named=""
    if [ -n "$named" ]; then
        master="$named"
        break
    fi
done
conf=/run/redis/redis.conf
{
    echo "requirepass ${REDIS_PASSWORD}"
    echo "masterauth ${REDIS_PASSWORD}"
    echo "dir /data"
    echo "appendonly yes"
    echo "maxmemory ${REDIS_MAXMEMORY:-512mb}"
    echo "maxmemory-policy noeviction"
    echo "replica-announce-ip ${me}"
    if [ "$master" != "$me" ]; then
        echo "replicaof ${master} 6379"
    fi
} > "$conf"
exec redis-server "$conf"
