# Windows: the learner's JupyterLab in one command, as `make lab` on Linux and macOS. In PowerShell or cmd:
#     powershell -ExecutionPolicy Bypass -File start.ps1
# The first time, it creates .venv with the versions in requirements\learner.txt; set PYTHON to choose the Python.
# With arguments, it runs them with the learner's settings instead, as ./start does:
#     powershell -ExecutionPolicy Bypass -File start.ps1 jupyter lab
# Written for Windows PowerShell 5.1, the one every Windows has: no &&, no ?:, and ASCII only.

$here = $PSScriptRoot
Set-Location $here

# the learner's Lab settings in jupyter\ come first: no nbgrader, no news question, root allowed in a container
if ($env:JUPYTER_CONFIG_PATH) {
    $env:JUPYTER_CONFIG_PATH = "$here\jupyter;$env:JUPYTER_CONFIG_PATH"
} else {
    $env:JUPYTER_CONFIG_PATH = "$here\jupyter"
}
if ($args.Count -gt 0) {
    $command, $rest = $args
    & $command @rest
    exit $LASTEXITCODE
}

$stamp = Join-Path $here ".venv\.installed"
$venvPython = Join-Path $here ".venv\Scripts\python.exe"
$lock = Join-Path $here "requirements\learner.txt"
$madeBy = ""
if (Test-Path $stamp) {
    $madeBy = ([string](Get-Content -Raw $stamp)).Trim()
}

# Which Python: PYTHON if set; else the one that made .venv, then the py launcher's newest, python3, python.
# Each is run and asked its version: a name may exist and not run (the Microsoft Store's python alias).
$candidates = @()
if ($env:PYTHON) {
    $candidates += , @($env:PYTHON)
} else {
    if ($madeBy) {
        $candidates += , @($madeBy -replace '^Python \S+ at ', '')
    }
    $candidates += , @("py", "-3")
    $candidates += , @("python3")
    $candidates += , @("python")
}
$ask = "import sys; print(sys.version_info >= (3, 11), 'Python %d.%d.%d at' % sys.version_info[:3], sys.executable)"
$found = ""
foreach ($candidate in $candidates) {
    $exe = $candidate[0]
    $more = @($candidate | Select-Object -Skip 1)
    try {
        $answer = [string](& $exe @more -c $ask 2>$null)
    } catch {
        continue
    }
    if ($LASTEXITCODE -eq 0 -and $answer.StartsWith("True ")) {
        $found = $answer.Substring(5).Trim()
        break
    }
}
if (-not $found) {
    Write-Host ("The workbook needs Python 3.11 or newer: install it from python.org or with " +
        "winget install Python.Python.3.12, then run this again (or set PYTHON to its python.exe).")
    exit 1
}
$python = $found -replace '^Python \S+ at ', ''

$upToDate = $false
if ((Test-Path $stamp) -and ($madeBy -eq $found)) {
    $stampTime = (Get-Item $stamp).LastWriteTime
    $newerThanPyproject = $stampTime -gt (Get-Item "pyproject.toml").LastWriteTime
    $upToDate = $newerThanPyproject -and ($stampTime -gt (Get-Item $lock).LastWriteTime)
}
if (-not $upToDate) {
    if ((Test-Path ".venv") -and ($madeBy -ne $found)) {
        $was = $madeBy
        if (-not $was) {
            $was = "an install that did not finish or did not record its Python"
        }
        Write-Host ".venv was made by $was; making it again with $found"
        Remove-Item -Recurse -Force ".venv"
    }
    Write-Host "Installing the workbook's packages (requirements\learner.txt) into .venv with ${found}: about 320 MB,"
    Write-Host "a minute or two the first time (less when pip has them cached). pip lists each package as it goes."
    if (-not (Test-Path $venvPython)) {
        & $python -m venv .venv
        if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }
    }
    & $venvPython -m pip install --upgrade pip
    if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }
    & $venvPython -m pip install -r $lock -e .
    if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }
    Set-Content -Path $stamp -Value $found -Encoding UTF8
}

& (Join-Path $here ".venv\Scripts\jupyter.exe") lab notebooks/00_welcome.ipynb
exit $LASTEXITCODE
