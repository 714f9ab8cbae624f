"""The local stack's oracle (``make run``): anvil, the contract deployed at start, and the sync
running on a short interval in a background thread. Kept apart from the HTTP bridge so that
``devserver`` only starts and stops it."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from web3 import HTTPProvider, Web3

from streamvault.chain.contracts import deploy_oracle
from streamvault.chain.signers import LocalSigner
from streamvault.config import configure, get_settings
from streamvault.local.anvil import ANVIL_BIN, ANVIL_DEV_KEY, AnvilNode


@dataclass
class LocalOracle:
    node: AnvilNode
    contract: str
    stop_event: threading.Event
    thread: threading.Thread

    def stop(self) -> None:
        self.stop_event.set()
        self.thread.join(timeout=30)
        self.node.stop()  # dumps the chain into the data dir: the next `make run` continues it


def _deployed(w3: Web3, signer: LocalSigner, address_file) -> str:
    """The contract from an earlier run if the chain still has it, else a fresh deployment."""
    if address_file.exists():
        address = address_file.read_text().strip()
        if w3.eth.get_code(Web3.to_checksum_address(address)):
            return address
    address = deploy_oracle(w3, signer, admin=signer.address, oracle=signer.address)
    address_file.write_text(address)
    return address


def _give_demo_wallets() -> int:
    """Demo data has no wallets, and the oracle syncs only verified creators with one: give the
    local demo's verified creators a deterministic (made-up) address, encrypted like real ones."""
    from sqlalchemy import text

    from streamvault.db.engine import transaction
    from streamvault.wallets import encrypt_wallet

    with transaction() as conn:
        ids = list(conn.execute(text(
            "SELECT id FROM creators WHERE verified AND wallet_ciphertext IS NULL AND deleted_at IS NULL")).scalars())
        for creator_id in ids:
            sealed = encrypt_wallet(f"0x{creator_id:040x}")
            conn.execute(text("UPDATE creators SET wallet_ciphertext = :c, wallet_blind_index = :b WHERE id = :id"),
                         {"c": sealed.ciphertext, "b": sealed.blind_index, "id": creator_id})
    return len(ids)


def _sync_forever(stop: threading.Event, interval_s: int) -> None:
    from streamvault.services.oracle_sync import NextRunRetries, build_runtime, run_sync

    runtime = build_runtime()
    while not stop.wait(interval_s):
        try:
            report = run_sync(runtime, NextRunRetries(), trigger="local")
            print(f"oracle sync: {report.creators} creators, {report.confirmed} confirmed "
                  f"({report.skipped or 'ok'})", flush=True)
        except Exception as exc:  # keep the local stack up; the next interval tries again
            print(f"oracle sync failed: {type(exc).__name__}: {exc}", flush=True)


def start_local_oracle() -> LocalOracle | None:
    """None (with a note) when anvil is not installed: the API still runs without the oracle."""
    settings = get_settings()
    if not ANVIL_BIN.exists():
        print("oracle: node_modules/.bin/anvil missing (run `make install`): local oracle disabled", flush=True)
        return None
    state_dir = (settings.data_dir / "anvil").resolve()
    node = AnvilNode(state_dir=state_dir, chain_id=settings.chain_id).start()
    signer = LocalSigner(ANVIL_DEV_KEY)
    contract = _deployed(Web3(HTTPProvider(node.url)), signer, state_dir / "oracle-address")
    configure(**{**settings.model_dump(), "chain_rpc_url": node.url, "oracle_contract_address": contract,
                 "oracle_signer": "local", "oracle_signer_private_key": ANVIL_DEV_KEY})
    if given := _give_demo_wallets():
        print(f"oracle: gave {given} verified demo creators a made-up wallet so that they sync", flush=True)
    stop = threading.Event()
    thread = threading.Thread(target=_sync_forever, args=(stop, settings.oracle_local_sync_interval_s),
                              name="oracle-sync", daemon=True)
    thread.start()
    return LocalOracle(node, contract, stop, thread)
