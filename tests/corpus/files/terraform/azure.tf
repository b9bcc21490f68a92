provider "azurerm" {
  features {}
  subscription_id = "f3af294d-5ceb-42dd-b678-4836be5b3443"
  tenant_id       = "903ae3f8-2e51-401b-b084-69f3ea605dd1"
  client_id       = "3471d33c-1548-46cd-adae-886bb5987dcb"
  client_secret   = "pdm8Q~cZCcGwUXVvsKuW_wKnXAuWP7XB0MSSnGVW"
}

resource "azurerm_storage_account" "backups" {
  name                     = "meshbackups"
  resource_group_name      = "mesh"
  location                 = "westeurope"
  account_tier             = "Standard"
  account_replication_type = "GRS"
}

locals {
  sas_url = "https://meshbackups.blob.core.windows.net/db?sv=2022-11-02&ss=b&srt=co&sp=rwl&se=2026-12-31T00:00:00Z&spr=https&sig=HXhF7NvRz5fX2FjAEPDYL4iAPdDTKm4y8FRDQxq5YCE%3D"
}
