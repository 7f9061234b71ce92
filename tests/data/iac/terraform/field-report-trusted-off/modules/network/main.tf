variable "resource_group_name" {
  type = string
}

variable "location" {
  type = string
}

variable "subnets" {
  type = map(object({ prefix = string, delegation = string }))
  default = {
    aci = { prefix = "10.0.1.0/24", delegation = "Microsoft.ContainerInstance/containerGroups" }
    aca = { prefix = "10.0.2.0/24", delegation = "Microsoft.App/environments" }
    pe  = { prefix = "10.0.3.0/24", delegation = "" }
  }
}

# exists already (prior_state)
resource "azurerm_virtual_network" "this" {
  name                = "vnet-field-report"
  resource_group_name = var.resource_group_name
  location            = var.location
  address_space       = ["10.0.0.0/16"]
}

resource "azurerm_subnet" "this" {
  for_each             = var.subnets
  name                 = each.key
  resource_group_name  = var.resource_group_name
  virtual_network_name = azurerm_virtual_network.this.name
  address_prefixes     = [each.value.prefix]

  dynamic "delegation" {
    for_each = each.value.delegation == "" ? [] : [each.value.delegation]
    content {
      name = "delegation"
      service_delegation {
        name = delegation.value
      }
    }
  }
}

output "vnet_id" {
  value = azurerm_virtual_network.this.id
}

output "aci_subnet_id" {
  value = azurerm_subnet.this["aci"].id
}

output "aca_subnet_id" {
  value = azurerm_subnet.this["aca"].id
}

output "pe_subnet_id" {
  value = azurerm_subnet.this["pe"].id
}
