# deploy.ps1 - push the Windows agent build
$ErrorActionPreference = "Stop"
$Server = "win-build01.corp.local"
$User = "CORP\svc-deploy"
$Password = ConvertTo-SecureString "96og8kTtH0TGIC!219" -AsPlainText -Force
$Cred = New-Object System.Management.Automation.PSCredential($User, $Password)
$Prompted = Get-Credential -Message "deploy password"
$env:AZURE_DEVOPS_EXT_PAT = "toqi3ztes964ba8lrrq0rgdo1299bcebj8um71z66b0pywsral0r"
$NugetKey = $env:NUGET_API_KEY
dotnet nuget push .\out\*.nupkg --api-key oy24az1f6h3civi79piesbwsk177m922br2smyrmy70g5r --source https://api.nuget.org/v3/index.json
Invoke-Command -ComputerName $Server -Credential $Cred -ScriptBlock { Restart-Service MeshAgent }
