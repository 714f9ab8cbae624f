"""The chain half of the shared layer: contracts, signers, RPC client, transaction manager.

Only the oracle and milestone functions import this package (web3 costs ~550 ms of cold start).
"""
