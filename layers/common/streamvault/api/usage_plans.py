"""API keys in API Gateway's usage plan, so that AWS throttles each key (rate and burst).

The authorizer answers with ``usageIdentifierKey`` = the key's id; API Gateway applies the plan
of the API Gateway key whose value is that id. Only the id goes to API Gateway, never the secret.
Nothing to do when no plan is configured (locally, the local server throttles).
"""

from __future__ import annotations

from streamvault.config import get_settings


def _client():
    import boto3  # only the CLI on an operator's machine needs it

    return boto3.client("apigateway", region_name=get_settings().aws_region)


def _name(key_id: str) -> str:
    return f"streamvault-{key_id}"


def check_key_limits(rate_limit_per_s: int | None, burst: int | None) -> None:
    """ValueError when a key asks for limits of its own that AWS would not apply.

    API Gateway throttles every key in the usage plan by the plan's rate and burst (the defaults,
    STREAMVAULT_API_RATE_LIMIT_PER_S / _API_BURST); only the local server honours a key's own.
    """
    settings = get_settings()
    if not settings.api_usage_plan_id:
        return
    asked = {"--rate": (rate_limit_per_s, settings.api_rate_limit_per_s), "--burst": (burst, settings.api_burst)}
    differing = [f"{flag} {value}" for flag, (value, default) in asked.items() if value not in (None, default)]
    if differing:
        raise ValueError(
            f"{' and '.join(differing)} would not apply: in AWS every key gets the usage plan's limits "
            f"({settings.api_rate_limit_per_s} requests/s, burst {settings.api_burst}; usage plan "
            f"{settings.api_usage_plan_id}), not its own. Leave out --rate/--burst, or change the plan's "
            "limits, which apply to every key")


def register_key(key_id: str) -> bool:
    """Add the key to the usage plan; False when no plan is configured."""
    plan = get_settings().api_usage_plan_id
    if not plan:
        return False
    client = _client()
    created = client.create_api_key(name=_name(key_id), value=key_id, enabled=True)
    client.create_usage_plan_key(usagePlanId=plan, keyId=created["id"], keyType="API_KEY")
    return True


def disable_key(key_id: str) -> bool:
    """Disable the key's API Gateway key (requests naming it are refused at the gateway)."""
    if not get_settings().api_usage_plan_id:
        return False
    client = _client()
    for item in client.get_api_keys(nameQuery=_name(key_id))["items"]:
        if item["name"] == _name(key_id):
            client.update_api_key(apiKey=item["id"],
                                  patchOperations=[{"op": "replace", "path": "/enabled", "value": "false"}])
    return True
