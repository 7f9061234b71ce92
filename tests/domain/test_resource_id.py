"""The one resource-ID parser (``pullpath.domain.resource_id``) against the Azure SDK's
``azure.mgmt.core.tools.parse_resource_id`` on generated IDs, and its own contract."""

from __future__ import annotations

from azure.mgmt.core.tools import parse_resource_id as sdk_parse
from azure.mgmt.core.tools import resource_id as sdk_build
from hypothesis import given
from hypothesis import strategies as st

from pullpath.domain.resource_id import (
    ResourceId,
    name_of,
    owner_of,
    parent_of,
    parse_resource_id,
    resource_group_of,
    subscription_of,
    type_of,
)

_segment = st.text(
    alphabet=st.sampled_from("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._()"),
    min_size=1, max_size=12,
).filter(lambda s: s.lower() not in ("providers", "subscriptions", "resourcegroups"))


@st.composite
def arm_ids(draw: st.DrawFn) -> tuple[str, dict[str, str]]:
    """An ID built by the SDK's own builder, with the parts it was built from."""
    parts: dict[str, str] = {
        "subscription": draw(_segment),
        "namespace": "Microsoft." + draw(_segment),
        "type": draw(_segment),
        "name": draw(_segment),
    }
    if draw(st.booleans()):
        parts["resource_group"] = draw(_segment)
    for level in range(1, draw(st.integers(0, 3)) + 1):
        parts[f"child_type_{level}"] = draw(_segment)
        parts[f"child_name_{level}"] = draw(_segment)
    if draw(st.booleans()) and "child_type_1" in parts:  # an extension resource on the last
        last = max(int(k.rsplit("_", 1)[1]) for k in parts if k.startswith("child_type_"))
        parts[f"child_namespace_{last}"] = "Microsoft." + draw(_segment)
    return sdk_build(**parts), parts


@given(arm_ids(), st.sampled_from([str, str.lower, str.upper]))
def test_parser_agrees_with_the_sdk(built: tuple[str, dict[str, str]], case: object) -> None:
    text, _ = built
    text = case(text)  # type: ignore[operator]
    sdk = sdk_parse(text)
    rid = parse_resource_id(text)
    assert rid is not None
    assert rid.subscription == sdk["subscription"]
    assert rid.resource_group == sdk.get("resource_group", "")
    assert rid.name == sdk["resource_name"]
    assert rid.types[-1] == sdk["resource_type"]
    last = sdk.get("last_child_num", 0)
    assert rid.namespace == sdk.get(f"child_namespace_{last}", sdk["namespace"])
    assert name_of(text) == sdk["resource_name"]
    assert subscription_of(text) == sdk["subscription"]
    assert resource_group_of(text) == sdk.get("resource_group", "")


@given(arm_ids())
def test_ids_compare_case_insensitively_and_parents_nest(built: tuple[str, dict[str, str]]) -> None:
    text, _ = built
    rid = parse_resource_id(text)
    assert rid is not None
    assert rid == parse_resource_id(text.upper()) == parse_resource_id(text.lower() + "/")
    assert hash(rid) == hash(parse_resource_id(text.swapcase()))
    parent = rid.parent()
    assert parent is not None
    assert rid.key.startswith(parent.key + "/")
    assert parent_of(text, rid.types[-1]) == parent.key


def test_parts_of_a_subnet_and_of_an_extension_resource() -> None:
    subnet = ("/subscriptions/0000/resourceGroups/RG-Net/providers/Microsoft.Network/"
              "virtualNetworks/hub/subnets/aci")
    rid = parse_resource_id(subnet)
    assert rid == ResourceId(subnet, "0000", "RG-Net", "Microsoft.Network",
                             ("virtualNetworks", "subnets"), ("hub", "aci"),
                             "/subscriptions/0000/resourceGroups/RG-Net", subnet.lower())
    assert rid.type == "microsoft.network/virtualnetworks/subnets"
    assert parent_of(subnet, "subnets") == subnet.lower().rsplit("/subnets/", 1)[0]
    assert parent_of(subnet, "virtualNetworks") == ""
    setting = ("/subscriptions/0000/resourceGroups/rg/providers/Microsoft.ContainerRegistry/"
               "registries/acr1/providers/Microsoft.Insights/diagnosticSettings/logs")
    assert type_of(setting) == "microsoft.insights/diagnosticsettings"
    assert parent_of(setting, "diagnosticSettings") == setting.lower().split("/providers/micro"
                                                                             "soft.insights")[0]
    assert type_of("/providers/Microsoft.Management/managementGroups/mg") == \
        "microsoft.management/managementgroups"


def test_what_is_not_an_id() -> None:
    for text in ("", "   ", "/", "acr1", "https://acr1.azurecr.io", "/resourceGroups/rg",
                 "/subscriptions"):
        assert parse_resource_id(text) is None
        assert type_of(text) == ""
        assert parent_of(text, "subnets") == ""
        assert subscription_of(text) == resource_group_of(text) == ""
    assert name_of("plain") == "plain"
    assert name_of(None) == ""
    # a collection (the ID ends in a type) has no name of its own and is no child
    collection = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks"
    assert parse_resource_id(collection).name == ""  # type: ignore[union-attr]
    assert parent_of(collection + "/v/subnets", "subnets") == ""


def test_owner_of_a_child_and_of_an_extension_resource() -> None:
    registry = ("/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerRegistry/"
                "registries/acr1")
    kind = "microsoft.containerregistry/registries"
    assert owner_of(registry, kind) == registry.lower()
    assert owner_of(registry + "/privateEndpointConnections/pe1", kind) == registry.lower()
    assert owner_of(registry + "/providers/Microsoft.Insights/diagnosticSettings/d",
                    kind) == registry.lower()
    assert owner_of("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/"
                    "publicIPAddresses/ip", kind) == ""
    assert owner_of(registry + "/replications", kind) == registry.lower()
