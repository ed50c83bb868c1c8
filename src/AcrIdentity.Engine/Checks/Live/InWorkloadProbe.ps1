# Test-AcrPullAccess -InWorkload: can this machine's identity pull? One line per step, never a token:
# ACRPROBE <step> <http status> <ok | the registry's error text>
# Windows PowerShell 5.1 and PowerShell 7 alike, with .NET calls only (no Invoke-RestMethod, no ConvertFrom-Json).
$L = '__LOGIN__'; $Repo = '__REPO__'; $Tag = '__TAG__'; $Res = '__RESOURCE__'; $Cid = '__CLIENT_ID__'
$Imds = if ($env:ACRIDENTITY_IMDS) { $env:ACRIDENTITY_IMDS } else { 'http://169.254.169.254' }
# Windows PowerShell 5.1 may still default to TLS 1.0, which registries refuse.
[Net.ServicePointManager]::SecurityProtocol = [Net.ServicePointManager]::SecurityProtocol -bor [Net.SecurityProtocolType]::Tls12

function Say([string] $Step, [string] $Code, [string] $Text) {
    $t = ($Text -replace '[\r\n]', '') -replace 'eyJ[A-Za-z0-9._-]+', '<jwt>'
    if ($t.Length -gt 400) { $t = $t.Substring(0, 400) }
    # Plain output, not Write-Output: hosts with only the core cmdlets run this too.
    "ACRPROBE $Step $Code $t"
}

function Val([string] $Body, [string] $Name) {
    if ($Body -match ('"' + $Name + '" *: *"([^"]*)"')) { return $Matches[1] }
    return ''
}

function Why([string] $Body) {
    $m = Val $Body 'message'
    if (-not $m) { $m = Val $Body 'error_description' }
    if ($m) { return $m }
    return $Body
}

# One HTTP call; returns @(status, body). Status 000 when nothing answered, as curl reports it.
function Call([string] $Method, [string] $Url, [hashtable] $Headers, [string] $Form, [bool] $NoProxy) {
    try {
        $q = [System.Net.HttpWebRequest]::Create($Url)
        $q.Method = $Method
        $q.Timeout = 20000
        $q.AllowAutoRedirect = $false
        # IMDS must never go through a proxy.
        if ($NoProxy) { $q.Proxy = $null }
        foreach ($k in $Headers.Keys) {
            if ($k -eq 'Accept') { $q.Accept = $Headers[$k] } else { $q.Headers.Add($k, $Headers[$k]) }
        }
        if ($Form) {
            $bytes = [System.Text.Encoding]::UTF8.GetBytes($Form)
            $q.ContentType = 'application/x-www-form-urlencoded'
            $s = $q.GetRequestStream()
            $s.Write($bytes, 0, $bytes.Length)
            $s.Close()
        }
        $r = $null
        try { $r = $q.GetResponse() }
        catch {
            $e = $_.Exception
            while ($e -and -not ($e -is [System.Net.WebException])) { $e = $e.InnerException }
            if ($e -and $e.Response) { $r = $e.Response } else { throw }
        }
        $reader = [System.IO.StreamReader]::new($r.GetResponseStream())
        $body = $reader.ReadToEnd()
        $reader.Close()
        $code = [string][int]$r.StatusCode
        $r.Close()
        return @($code, $body)
    }
    catch {
        $e = $_.Exception
        while ($e.InnerException) { $e = $e.InnerException }
        return @('000', $e.Message)
    }
}

$u = "$Imds/metadata/identity/oauth2/token?api-version=2018-02-01&resource=" + [Uri]::EscapeDataString($Res)
if ($Cid) { $u += '&client_id=' + [Uri]::EscapeDataString($Cid) }
$code, $body = Call 'GET' $u @{ Metadata = 'true' } '' $true
$Aad = Val $body 'access_token'
if (-not $Aad) { Say 'imds' $code (Why $body); return }
Say 'imds' $code 'ok'

$code, $body = Call 'POST' "https://$L/oauth2/exchange" @{} ("grant_type=access_token&service=$L&access_token=" + $Aad) $false
$Rt = Val $body 'refresh_token'
if (-not $Rt) { Say 'exchange' $code (Why $body); return }
Say 'exchange' $code 'ok'

$code, $body = Call 'POST' "https://$L/oauth2/token" @{} ("grant_type=refresh_token&service=$L&scope=repository:${Repo}:pull&refresh_token=" + $Rt) $false
$At = Val $body 'access_token'
if (-not $At) { Say 'token' $code (Why $body); return }
$p = $At.Split('.')[1].Replace('_', '/').Replace('-', '+')
while ($p.Length % 4) { $p += '=' }
$claims = ''
try { $claims = [System.Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($p)) } catch { $claims = '' }
if ($claims -notmatch '"pull"') { Say 'token' $code "the registry granted no pull on repository:$Repo"; return }
Say 'token' $code 'ok'

$accept = 'application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json'
$code, $body = Call 'HEAD' "https://$L/v2/$Repo/manifests/$Tag" @{ Authorization = "Bearer $At"; Accept = $accept } '' $false
if ($code -eq '200') { Say 'manifest' $code 'ok' } else { Say 'manifest' $code "HEAD answered $code" }
