"""The CDK app synthesizes offline (resources arrive with the infrastructure issue)."""

import aws_cdk as cdk
from aws_cdk.assertions import Template

from infra.stack import StreamVaultStack


def test_stack_synthesizes_and_is_tagged_with_its_stage():
    app = cdk.App()
    stack = StreamVaultStack(app, "StreamVault-test", stage="test")
    template = Template.from_stack(stack)
    assert template.to_json().get("Resources", {}) == {}
    assert stack.tags.tag_values() == {"project": "streamvault", "stage": "test"}
