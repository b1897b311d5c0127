#!/bin/sh
# Starts one Redis of the StatefulSet `redis` (official image): redis-0 is the master, any
# other ordinal its replica (the production overlay runs three). The password comes from
# the Secret through the environment and goes into a file only this user reads, never
# onto a command line. Past REDIS_MAXMEMORY writes fail rather than evict anyone's case.
set -eu
umask 077
ordinal="${HOSTNAME##*-}"
headless="redis-headless.${POD_NAMESPACE}.svc.cluster.local"
conf=/run/redis/redis.conf
{
    echo "requirepass ${REDIS_PASSWORD}"
    echo "masterauth ${REDIS_PASSWORD}"
    echo "dir /data"
    echo "appendonly yes"
    echo "maxmemory ${REDIS_MAXMEMORY:-512mb}"
    echo "maxmemory-policy noeviction"
    echo "replica-announce-ip ${HOSTNAME}.${headless}"
    if [ "$ordinal" != 0 ]; then
        echo "replicaof redis-0.${headless} 6379"
        # 0: Sentinel never promotes this replica. The hub, the action server and Rasa
        # connect to one address (the Service redis, pod redis-0) until they read
        # REDIS_SENTINELS (docs/deploy.md#what-is-still-single-redis).
        echo "replica-priority ${REPLICA_PRIORITY:-0}"
    fi
} > "$conf"
exec redis-server "$conf"
