# Loaded by /usr/bin/python3 through PYTHONPATH, for az only (tests/cli/az-cli.sh sets it).
#
# Debian's azure-cli 2.45 (bookworm) is packaged with a newer/older Azure SDK than it was written for,
# and two command groups the sandbox test needs fail against real Azure too. Each patch below is
# applied only when its module loads and only if the bug is present; neither changes the request shapes
# az sends, only which installed SDK code serves them.
#  1. azure-mgmt-authorization 3.x keeps operation-group configuration in `_config`; az 2.45's role
#     commands read `.config.subscription_id` ("'RoleAssignmentsOperations' object has no attribute
#     'config'", Azure/azure-cli#24959, #26896): add a read-only `config` alias.
#  2. python3-azure 20230112 ships azure-mgmt-compute without api-version 2022-11-01, which az 2.45's
#     latest profile pins ("API version 2022-11-01 does not have operation group 'virtual_machines'"):
#     use 2022-08-01, the newest the installed SDK has.
import importlib.abc
import importlib.util
import os
import sys


def _alias_config(module):
    for value in list(vars(module).values()):
        if isinstance(value, type) and value.__name__.endswith("Operations") and not hasattr(value, "config"):
            value.config = property(lambda self: self._config)


def _compute_fallback(module):
    compute = importlib.util.find_spec("azure.mgmt.compute")
    if compute is None or not compute.submodule_search_locations:
        return
    root = list(compute.submodule_search_locations)[0]
    if os.path.isdir(os.path.join(root, "v2022_11_01")):
        return
    rt = module.ResourceType.MGMT_COMPUTE
    latest = module.AZURE_API_PROFILES["latest"]
    old = latest[rt]
    ops = {k: ("2022-08-01" if v == "2022-11-01" else v) for k, v in old.profile.items() if k}
    latest[rt] = module.SDKProfile("2022-08-01", ops)


_PATCHES = {"azure.cli.core.profiles._shared": _compute_fallback}


def _patch_for(name):
    if name in _PATCHES:
        return _PATCHES[name]
    if name.startswith("azure.mgmt.authorization.") and name.rsplit(".", 1)[-1].endswith("_operations"):
        return _alias_config
    return None


class _PostImport(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        patch = _patch_for(name)
        if patch is None:
            return None
        sys.meta_path.remove(self)
        try:
            spec = importlib.util.find_spec(name)
        finally:
            sys.meta_path.insert(0, self)
        if spec is None or spec.loader is None:
            return spec
        original = spec.loader.exec_module

        def exec_module(module):
            original(module)
            patch(module)

        spec.loader.exec_module = exec_module
        return spec


sys.meta_path.insert(0, _PostImport())
