# Deploy the relay to the Windows build agent
$ErrorActionPreference = "Stop"
$env:RELAY_TOKEN = "aaBZloB8F5J7UJNESnXPYb30X9HBEm6KziBjt9VH"
$securePass = ConvertTo-SecureString "RE5qJVvt8dtAVBT9" -AsPlainText -Force
$cred = New-Object System.Management.Automation.PSCredential ("MESH\agent", $securePass)
Invoke-Command -ComputerName build-01 -Credential $cred -ScriptBlock {
    Restart-Service -Name relay
}
$headers = @{ Authorization = "Bearer $env:RELAY_TOKEN" }
Invoke-RestMethod -Uri "https://relay.mesh.example/v1/status" -Headers $headers
