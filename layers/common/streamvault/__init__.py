"""StreamVault shared package: config, observability, database, domain rules, chain client."""

__version__ = "0.1.0"
