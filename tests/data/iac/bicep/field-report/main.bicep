// The field report of 2024-11-25 (docs: design brief, "The story behind it") written in
// Bicep for pullpath's tests: a Premium registry with public access off and trusted services
// on, a VNet with subnets for the private endpoint, ACI and Container Apps, the private
// endpoint with its privatelink.azurecr.io zone, VNet link and zone group, one user-assigned
// identity per consumer holding AcrPull, ACI in the VNet pulling with its identity, and a
// Container App in a custom-VNet environment. Written for pullpath; not from a public source.

@description('Azure region of every resource.')
param location string = resourceGroup().location

param registryName string
param workspaceName string
param vnetName string
param aciIdentityName string
param appIdentityName string
param privateEndpointName string
param environmentName string
param aciName string
param appName string
param image string = 'pullpath/hello:1'

var acrPullRoleId = '7f951dda-4ed3-4680-a7ca-43fe172d538d'
var registryZone = 'privatelink.azurecr.io'

resource workspace 'Microsoft.OperationalInsights/workspaces@2025-07-01' = {
  name: workspaceName
  location: location
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: 30
  }
}

resource acr 'Microsoft.ContainerRegistry/registries@2025-11-01' = {
  name: registryName
  location: location
  sku: {
    name: 'Premium'
  }
  properties: {
    adminUserEnabled: false
    anonymousPullEnabled: false
    publicNetworkAccess: 'Disabled'
    networkRuleBypassOptions: 'AzureServices'
    networkRuleSet: {
      defaultAction: 'Deny'
      ipRules: []
    }
    dataEndpointEnabled: false
  }
}

resource registryLogs 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'pullpath-lab'
  scope: acr
  properties: {
    workspaceId: workspace.id
    logs: [
      {
        categoryGroup: 'allLogs'
        enabled: true
      }
    ]
  }
}

resource vnet 'Microsoft.Network/virtualNetworks@2026-03-01' = {
  name: vnetName
  location: location
  properties: {
    addressSpace: {
      addressPrefixes: [
        '10.0.0.0/16'
      ]
    }
    subnets: [
      {
        name: 'aci'
        properties: {
          addressPrefix: '10.0.1.0/24'
          delegations: [
            {
              name: 'delegation'
              properties: {
                serviceName: 'Microsoft.ContainerInstance/containerGroups'
              }
            }
          ]
        }
      }
      {
        name: 'aca'
        properties: {
          addressPrefix: '10.0.2.0/24'
          delegations: [
            {
              name: 'delegation'
              properties: {
                serviceName: 'Microsoft.App/environments'
              }
            }
          ]
        }
      }
      {
        name: 'pe'
        properties: {
          addressPrefix: '10.0.3.0/24'
          privateEndpointNetworkPolicies: 'Disabled'
        }
      }
    ]
  }

  resource aciSubnet 'subnets' existing = {
    name: 'aci'
  }

  resource acaSubnet 'subnets' existing = {
    name: 'aca'
  }

  resource peSubnet 'subnets' existing = {
    name: 'pe'
  }
}

resource aciIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = {
  name: aciIdentityName
  location: location
  properties: {}
}

resource appIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = {
  name: appIdentityName
  location: location
  properties: {}
}

resource aciPull 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(acr.id, aciIdentity.id, acrPullRoleId)
  scope: acr
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', acrPullRoleId)
    principalId: aciIdentity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource appPull 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(acr.id, appIdentity.id, acrPullRoleId)
  scope: acr
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', acrPullRoleId)
    principalId: appIdentity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource privateEndpoint 'Microsoft.Network/privateEndpoints@2026-03-01' = {
  name: privateEndpointName
  location: location
  properties: {
    subnet: {
      id: vnet::peSubnet.id
    }
    privateLinkServiceConnections: [
      {
        name: 'registry'
        properties: {
          privateLinkServiceId: acr.id
          groupIds: [
            'registry'
          ]
        }
      }
    ]
  }

  resource zoneGroup 'privateDnsZoneGroups' = {
    name: 'default'
    properties: {
      privateDnsZoneConfigs: [
        {
          name: 'privatelink-azurecr-io'
          properties: {
            privateDnsZoneId: zone.id
          }
        }
      ]
    }
  }
}

resource zone 'Microsoft.Network/privateDnsZones@2024-06-01' = {
  name: registryZone
  location: 'global'
  properties: {}
}

resource zoneLink 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2024-06-01' = {
  parent: zone
  name: vnetName
  location: 'global'
  properties: {
    registrationEnabled: false
    virtualNetwork: {
      id: vnet.id
    }
  }
}

resource acaEnv 'Microsoft.App/managedEnvironments@2026-07-01' = {
  name: environmentName
  location: location
  properties: {
    vnetConfiguration: {
      infrastructureSubnetId: vnet::acaSubnet.id
      internal: false
    }
    workloadProfiles: [
      {
        name: 'Consumption'
        workloadProfileType: 'Consumption'
      }
    ]
    zoneRedundant: false
  }
}

resource aci 'Microsoft.ContainerInstance/containerGroups@2023-05-01' = {
  name: aciName
  location: location
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${aciIdentity.id}': {}
    }
  }
  properties: {
    osType: 'Linux'
    sku: 'Standard'
    restartPolicy: 'Always'
    containers: [
      {
        name: 'pull'
        properties: {
          image: '${acr.properties.loginServer}/${image}'
          resources: {
            requests: {
              cpu: 1
              memoryInGB: 2
            }
          }
          ports: [
            {
              port: 80
              protocol: 'TCP'
            }
          ]
        }
      }
    ]
    imageRegistryCredentials: [
      {
        server: acr.properties.loginServer
        identity: aciIdentity.id
      }
    ]
    subnetIds: [
      {
        id: vnet::aciSubnet.id
      }
    ]
    ipAddress: {
      type: 'Private'
      ports: [
        {
          port: 80
          protocol: 'TCP'
        }
      ]
    }
  }
  dependsOn: [
    aciPull
  ]
}

resource app 'Microsoft.App/containerApps@2026-07-01' = {
  name: appName
  location: location
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${appIdentity.id}': {}
    }
  }
  properties: {
    environmentId: acaEnv.id
    workloadProfileName: 'Consumption'
    configuration: {
      activeRevisionsMode: 'Single'
      registries: [
        {
          server: acr.properties.loginServer
          identity: appIdentity.id
        }
      ]
    }
    template: {
      containers: [
        {
          name: 'pull'
          image: '${acr.properties.loginServer}/${image}'
          resources: {
            cpu: json('0.25')
            memory: '0.5Gi'
          }
        }
      ]
      scale: {
        minReplicas: 1
        maxReplicas: 1
      }
    }
  }
  dependsOn: [
    appPull
  ]
}
