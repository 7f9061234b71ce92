terraform {
  required_providers {
    azurerm = {
      source  = "hashicorp/azurerm"
      version = "~> 4.0"
    }
  }
}

provider "azurerm" {
  features {}
}

data "azurerm_client_config" "current" {}

# exists already (prior_state)
resource "azurerm_resource_group" "lab" {
  name     = "rg-field-report"
  location = "westeurope"
}

module "network" {
  source              = "./modules/network"
  resource_group_name = azurerm_resource_group.lab.name
  location            = azurerm_resource_group.lab.location
}

resource "azurerm_container_registry" "acr" {
  name                          = "acrfieldreport"
  resource_group_name           = azurerm_resource_group.lab.name
  location                      = azurerm_resource_group.lab.location
  sku                           = "Premium"
  admin_enabled                 = false
  public_network_access_enabled = false
  network_rule_bypass_option    = "AzureServices"

  network_rule_set {
    default_action = "Deny"
  }
}

resource "azurerm_log_analytics_workspace" "logs" {
  name                = "log-field-report"
  resource_group_name = azurerm_resource_group.lab.name
  location            = azurerm_resource_group.lab.location
  sku                 = "PerGB2018"
  retention_in_days   = 30
}

resource "azurerm_monitor_diagnostic_setting" "acr" {
  name                       = "acr-logs"
  target_resource_id         = azurerm_container_registry.acr.id
  log_analytics_workspace_id = azurerm_log_analytics_workspace.logs.id

  enabled_log {
    category_group = "allLogs"
  }
}

resource "azurerm_user_assigned_identity" "pull" {
  for_each            = toset(["aci", "app"])
  name                = "id-field-report-${each.key}"
  resource_group_name = azurerm_resource_group.lab.name
  location            = azurerm_resource_group.lab.location
}

resource "azurerm_role_assignment" "pull" {
  for_each             = azurerm_user_assigned_identity.pull
  scope                = azurerm_container_registry.acr.id
  role_definition_name = "AcrPull"
  principal_id         = each.value.principal_id
  principal_type       = "ServicePrincipal"
}

resource "azurerm_private_dns_zone" "acr" {
  name                = "privatelink.azurecr.io"
  resource_group_name = azurerm_resource_group.lab.name
}

resource "azurerm_private_dns_zone_virtual_network_link" "acr" {
  count                 = 1
  name                  = "vnet-field-report"
  resource_group_name   = azurerm_resource_group.lab.name
  private_dns_zone_name = azurerm_private_dns_zone.acr.name
  virtual_network_id    = module.network.vnet_id
}

resource "azurerm_private_endpoint" "acr" {
  name                = "pe-acr-field-report"
  resource_group_name = azurerm_resource_group.lab.name
  location            = azurerm_resource_group.lab.location
  subnet_id           = module.network.pe_subnet_id

  private_service_connection {
    name                           = "acr"
    private_connection_resource_id = azurerm_container_registry.acr.id
    subresource_names              = ["registry"]
    is_manual_connection           = false
  }

  private_dns_zone_group {
    name                 = "default"
    private_dns_zone_ids = [azurerm_private_dns_zone.acr.id]
  }
}

# the field report's `az container create --acr-identity $USERID --assign-identity $USERID
# --vnet $VNET --subnet $SUBNET --os-type Linux --cpu 1 --memory 2`
resource "azurerm_container_group" "orders_worker" {
  name                = "ci-orders-worker"
  resource_group_name = azurerm_resource_group.lab.name
  location            = azurerm_resource_group.lab.location
  os_type             = "Linux"
  ip_address_type     = "Private"
  subnet_ids          = [module.network.aci_subnet_id]

  identity {
    type         = "UserAssigned"
    identity_ids = [azurerm_user_assigned_identity.pull["aci"].id]
  }

  image_registry_credential {
    server                    = azurerm_container_registry.acr.login_server
    user_assigned_identity_id = azurerm_user_assigned_identity.pull["aci"].id
  }

  container {
    name   = "pull"
    image  = "${azurerm_container_registry.acr.login_server}/lab/aci-helloworld:v1"
    cpu    = 1
    memory = 2

    ports {
      port     = 80
      protocol = "TCP"
    }
  }
}

resource "azurerm_container_app_environment" "env" {
  name                           = "cae-field-report"
  resource_group_name            = azurerm_resource_group.lab.name
  location                       = azurerm_resource_group.lab.location
  infrastructure_subnet_id       = module.network.aca_subnet_id
  internal_load_balancer_enabled = false

  workload_profile {
    name                  = "Consumption"
    workload_profile_type = "Consumption"
  }
}

resource "azurerm_container_app" "orders_api" {
  name                         = "ca-orders-api"
  resource_group_name          = azurerm_resource_group.lab.name
  container_app_environment_id = azurerm_container_app_environment.env.id
  revision_mode                = "Single"
  workload_profile_name        = "Consumption"

  identity {
    type         = "UserAssigned"
    identity_ids = [azurerm_user_assigned_identity.pull["app"].id]
  }

  registry {
    server   = azurerm_container_registry.acr.login_server
    identity = azurerm_user_assigned_identity.pull["app"].id
  }

  template {
    container {
      name   = "pull"
      image  = "${azurerm_container_registry.acr.login_server}/lab/aci-helloworld:v1"
      cpu    = 0.25
      memory = "0.5Gi"
    }
  }
}
