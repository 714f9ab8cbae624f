"""A local anvil node (npm ``@foundry-rs/anvil``) for the local stack, tests and benchmarks.

Always started with ``--prune-history`` and a throwaway state directory (also as ``HOME``):
by default anvil keeps a state snapshot per block under ``~/.foundry``, gigabytes within
minutes, and slows down as they pile up. The state is dumped into that directory on a clean
stop and loaded again on restart, so a test can take the node down and bring the same chain back.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from web3 import HTTPProvider, Web3

REPO_ROOT = Path(__file__).resolve().parents[4]
ANVIL_BIN = REPO_ROOT / "node_modules" / ".bin" / "anvil"  # npm's wrapper: a node process around the binary
# NOT A SECRET: anvil's first account from its public test mnemonic ("test test … junk").
ANVIL_DEV_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
_START_TIMEOUT_S = 20.0


def anvil_executable() -> Path:
    """The platform binary npm installed (one process to signal, no node in between), else the wrapper."""
    native = sorted((REPO_ROOT / "node_modules" / "@foundry-rs").glob("anvil-*/bin/anvil"))
    return native[0] if native else ANVIL_BIN


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class AnvilNode:
    """One anvil process; ``stop()`` then ``start()`` brings back the same chain state."""

    state_dir: Path
    chain_id: int = 31337
    port: int = field(default_factory=free_port)
    extra_args: tuple[str, ...] = ()
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> AnvilNode:
        if not ANVIL_BIN.exists():
            raise RuntimeError(f"{ANVIL_BIN} is missing: run `make install` (npm ci)")
        self.state_dir.mkdir(parents=True, exist_ok=True)
        args = [str(anvil_executable()), "--port", str(self.port), "--chain-id", str(self.chain_id), "--prune-history",
                "--state", str(self.state_dir / "state.json"), "--cache-path", str(self.state_dir / "cache"),
                "--silent", *self.extra_args]
        env = {**os.environ, "HOME": str(self.state_dir)}  # nothing may land in ~/.foundry
        # Its own session: a terminal's Ctrl-C reaches the local stack, which then stops anvil in order.
        self.process = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                        start_new_session=True)
        self._wait_until_ready()
        return self

    def _wait_until_ready(self) -> None:
        w3 = Web3(HTTPProvider(self.url, request_kwargs={"timeout": 1}))
        deadline = time.monotonic() + _START_TIMEOUT_S
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                err = self.process.stderr.read().decode(errors="replace") if self.process.stderr else ""
                raise RuntimeError(f"anvil exited with {self.process.returncode}: {err[-500:]}")
            try:
                if w3.eth.chain_id == self.chain_id:
                    return
            except Exception:  # not listening yet
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"anvil did not answer on {self.url} within {_START_TIMEOUT_S} s")

    def stop(self) -> None:
        """SIGINT, so anvil dumps its state for the next ``start()``."""
        if self.process is None or self.process.poll() is not None:
            self.process = None
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def rpc(self, method: str, *params: object) -> object:
        """A raw JSON-RPC call (anvil_* and evm_* test methods)."""
        return Web3(HTTPProvider(self.url)).provider.make_request(method, list(params)).get("result")  # type: ignore[arg-type]

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.state_dir, ignore_errors=True)
