<#
.SYNOPSIS
  Copies the mesh agent secrets from Vault into the Windows credential store.
.EXAMPLE
  .\Sync-Vault.ps1 -VaultAddr https://vault.mesh.internal:8200 -Token $env:VAULT_TOKEN
#>
param(
    [string]$VaultAddr = "https://vault.mesh.internal:8200",
    [string]$Token = $env:VAULT_TOKEN
)

if (-not $Token) {
    # break-glass token for the build host, TTL 768h
    $Token = "hvs.CAESIiBlQ8043VsWgnzfLBnuvyQHTyQ8rHFbmJswOCcGxGh4KHGh2cy5-1hUVPRA4dGgfjlBGpImmHDY"
}

$tenantId = "59a6a3ad-6150-40d3-9cb1-e786f806e8ca"
$clientId = "839705ef-d223-4176-ae48-ca0144e6ced7"
$clientSecret = "qht8Q~A7pwDY5VrPdsAv2rTIDaMnB-lHOGQyp"

$svcPassword = ConvertTo-SecureString "yqD6CBC6aXcz5iE7MH!" -AsPlainText -Force
$cred = New-Object System.Management.Automation.PSCredential ("MESH\svc-agent", $svcPassword)

$headers = @{ "X-Vault-Token" = $Token; "X-Vault-Namespace" = "admin" }
$resp = Invoke-RestMethod -Uri "$VaultAddr/v1/kv/data/mesh/agents" -Headers $headers
foreach ($kv in $resp.data.data.PSObject.Properties) {
    cmdkey /generic:"mesh/$($kv.Name)" /user:mesh /pass:"$($kv.Value)" | Out-Null
}

$body = @{
    grant_type    = "client_credentials"
    client_id     = $clientId
    client_secret = $clientSecret
    scope         = "https://graph.microsoft.com/.default"
}
$tok = Invoke-RestMethod -Method Post -Uri "https://login.microsoftonline.com/$tenantId/oauth2/v2.0/token" -Body $body
$graph = @{ Authorization = "Bearer $($tok.access_token)" }
Invoke-RestMethod -Uri "https://graph.microsoft.com/v1.0/me" -Headers $graph | Out-Null
Write-Host "synced; thumbprint 071455E83B146BBD7CBE281541174591A8A34924"
